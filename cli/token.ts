import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../gateway/config.ts';
import { AGENCY_CODES, ROLES } from '../common/vocabulary.ts';
import { verificationKey } from '../gateway/identity/keys.ts';
import { parseTtl, signToken } from '../gateway/identity/token.ts';

function fail(message: string): never {
  console.error(`token: ${message}`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({ options: { agency: { type: 'string' }, roles: { type: 'string' }, ttl: { type: 'string', default: '1h' }, sub: { type: 'string' } } }).values;
} catch (e) {
  fail(`${(e as Error).message}. Usage: npm run token -- --agency tax [--roles auditor] [--ttl 1h] [--sub name]`);
}
if (args.agency === undefined) fail('--agency is required, one of ' + [...AGENCY_CODES].join(', '));
if (!AGENCY_CODES.has(args.agency)) fail(`unknown agency "${args.agency}", expected one of ${[...AGENCY_CODES].join(', ')}`);
const roles = args.roles === undefined ? [] : args.roles.split(',').map((r) => r.trim()).filter((r) => r !== '');
for (const r of roles) if (!ROLES.has(r)) fail(`unknown role "${r}", expected one of ${[...ROLES].join(', ')}`);
const ttl = parseTtl(args.ttl ?? '1h');
if (ttl === null) fail(`--ttl must look like 90s, 15m, 1h or 7d, got "${args.ttl}"`);
try {
  const config = loadConfig();
  const key = verificationKey(config);
  const token = signToken(key, { agency: args.agency, roles, ttlSeconds: ttl, ...(args.sub ? { sub: args.sub } : {}) }, { issuer: config.jwtIssuer, audience: config.jwtAudience });
  process.stdout.write(`${token}\n`);
} catch (e) {
  fail(e instanceof ConfigError ? e.message : (e as Error).message);
}
