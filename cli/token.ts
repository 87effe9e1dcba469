import { parseArgs } from 'node:util';
import { ConfigError, durationSeconds, loadConfig } from '../gateway/config.ts';
import { ROLES } from '../common/vocabulary.ts';
import { readMembers } from '../ledger/members.ts';
import { verificationKey } from '../gateway/identity/keys.ts';
import { signToken } from '../gateway/identity/token.ts';
import { exitQuietlyOnClosedPipe } from './pipe.ts';

/** Tokens live at most this long unless an operator says otherwise with --max-ttl. */
const DEFAULT_MAX_TTL = 24 * 3600;

const HELP = `npm run token -- --agency A [--roles auditor,coordinator] [--ttl 1h] [--sub NAME] [--max-ttl D]
  Prints a token for agency A signed with the key the gateway is configured with (JWT_SECRET, or
  the development key in DATA_DIR/keys).
  --agency   a member's code (tax) or full id (445200/tax), as registered in the ledger of
             DATA_DIR (or REDIS_URL); before the first start, a reference member
  --roles    comma-separated, of ${[...ROLES].join(', ')}
  --ttl      lifetime: 90s, 15m, 1h (default) or 7d; at most 24h
  --max-ttl  an operator's higher cap for --ttl; the gateway still refuses tokens living longer
             than its JWT_MAX_TTL (default 24h)
  --sub      the subject (default <agency>-developer)`;

function fail(message: string): never {
  console.error(`token: ${message}`);
  process.exit(2);
}

exitQuietlyOnClosedPipe();
let args;
try {
  args = parseArgs({
    options: { agency: { type: 'string' }, roles: { type: 'string' }, ttl: { type: 'string', default: '1h' }, 'max-ttl': { type: 'string' }, sub: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  }).values;
} catch (e) {
  fail(`${(e as Error).message}\n${HELP}`);
}
if (args.help === true) {
  console.log(HELP);
  process.exit(0);
}
if (args.agency === undefined) fail('--agency is required: a member code such as tax');
const agency = args.agency;
const roles = args.roles === undefined ? [] : args.roles.split(',').map((r) => r.trim()).filter((r) => r !== '');
for (const r of roles) if (!ROLES.has(r)) fail(`unknown role "${r}", expected one of ${[...ROLES].join(', ')}`);
const ttl = durationSeconds(args.ttl ?? '1h');
if (ttl === null) fail(`--ttl must look like 90s, 15m, 1h or 7d, got "${args.ttl}"`);
const cap = args['max-ttl'] === undefined ? DEFAULT_MAX_TTL : durationSeconds(args['max-ttl']);
if (cap === null) fail(`--max-ttl must look like 90s, 15m, 1h or 7d, got "${args['max-ttl']}"`);
if (ttl > cap) fail(`--ttl ${args.ttl} is longer than ${args['max-ttl'] === undefined ? 'the 24h cap' : `--max-ttl ${args['max-ttl']}`}; an operator may raise the cap with --max-ttl`);
try {
  const config = loadConfig();
  const members = await readMembers(config);
  const code = members.resolve(agency);
  const active = members.list().filter((m) => m.status === 'ACTIVE').map((m) => m.code);
  if (code === null) fail(`unknown agency "${agency}": not a member of this exchange; expected one of ${active.join(', ')}`);
  const member = members.get(code);
  if (member !== undefined && member.status !== 'ACTIVE') fail(`member ${code} is ${member.status.toLowerCase()}: the gateway refuses its tokens`);
  if (ttl > config.jwtMaxTtlSeconds) {
    console.error(`token: note: the gateway refuses tokens living longer than JWT_MAX_TTL (${config.jwtMaxTtlSeconds} s); set it on the gateway too`);
  }
  const key = verificationKey(config);
  const token = signToken(key, { agency, roles, ttlSeconds: ttl, sub: args.sub ?? `${code}-developer` }, { issuer: config.jwtIssuer, audience: config.jwtAudience });
  process.stdout.write(`${token}\n`);
} catch (e) {
  fail(e instanceof ConfigError ? e.message : (e as Error).message);
}
