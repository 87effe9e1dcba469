import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { readBody } from '../common/http.ts';
import { loadConfig } from '../gateway/config.ts';
import { verificationKey } from '../gateway/identity/keys.ts';
import { signToken } from '../gateway/identity/token.ts';
import { consoleLogger } from '../gateway/log.ts';
import { startBareGateway } from './bare.ts';

/**
 * One gateway over one test suite's supergraph, for `npm run compat`: `tsx bench/compat-gateway.ts
 * governed|bare <supergraph URL> <port> <work dir>`; the URL is the audit suite's own loopback server. The suite's tests send no token, so a small front
 * on <port> adds one (a real token, verified by the governed gateway like any other) and answers
 * /health once the gateway answers GraphQL. The bare gateway sits behind the same front, so that
 * both are reached the same way.
 */
const [kind, supergraphUrl, portText, workDirArg] = process.argv.slice(2);
if ((kind !== 'governed' && kind !== 'bare') || supergraphUrl === undefined || portText === undefined || workDirArg === undefined) {
  process.stderr.write('usage: tsx bench/compat-gateway.ts governed|bare <supergraph URL> <port> <work dir>\n');
  process.exit(2);
}
const workDir: string = workDirArg;
mkdirSync(workDir, { recursive: true });
const supergraphPath = path.join(workDir, 'supergraph.graphql');
const fetched = await fetch(supergraphUrl);
if (!fetched.ok) {
  process.stderr.write(`cannot read the supergraph at ${supergraphUrl}: HTTP ${fetched.status}\n`);
  process.exit(1);
}
writeFileSync(supergraphPath, await fetched.text());
const ROOT = path.resolve(import.meta.dirname, '..');
const log = consoleLogger(`compat-${kind}`);

async function startInner(): Promise<{ url: string; authorization: string | null; close(): Promise<void> }> {
  const supergraphSdl = readFileSync(supergraphPath, 'utf8');
  if (kind === 'bare') {
    const gw = await startBareGateway({ supergraphSdl, subgraphUrls: new Map(), signingKey: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() });
    return { url: gw.url, authorization: null, close: () => gw.close() };
  }
  // A supergraph not written for the exchange: every field allowed, no grant or agreement lines
  // (they would name datasets this supergraph lacks).
  const policyDir = path.join(workDir, 'policies');
  mkdirSync(policyDir, { recursive: true });
  for (const f of ['model.conf', 'rules.csv']) copyFileSync(path.join(ROOT, 'policies', f), path.join(policyDir, f));
  writeFileSync(path.join(policyDir, 'grants.csv'), '');
  writeFileSync(path.join(policyDir, 'agreements.csv'), '');
  const config = loadConfig({
    DATA_DIR: path.join(workDir, 'data'),
    POLICY_DIR: policyDir,
    SUPERGRAPH_PATH: supergraphPath,
    UNCLASSIFIED_FIELDS: 'allow',
    PORT: '0',
    COST_BUDGET_PER_MINUTE: 'off',
  });
  const { startGateway } = await import('../gateway/server.ts');
  const gw = await startGateway(config, { log });
  const token = signToken(verificationKey(config), { agency: 'itd', ttlSeconds: 24 * 3600, sub: 'compat' }, { issuer: config.jwtIssuer, audience: config.jwtAudience });
  return { url: gw.url, authorization: `Bearer ${token}`, close: () => gw.close() };
}

const inner = await startInner();
const front: Server = createServer((req, res) => {
  const target = new URL(req.url ?? '/', inner.url);
  if (target.pathname === '/health') {
    // Ready once the gateway answers a query: foreign subgraphs serve no health route of ours.
    fetch(inner.url, { method: 'POST', headers: { 'content-type': 'application/json', ...(inner.authorization ? { authorization: inner.authorization } : {}) }, body: '{"query":"{ __typename }"}' })
      .then((r) => {
        res.writeHead(r.ok ? 200 : 503).end(r.ok ? 'OK' : 'not ready');
      })
      .catch(() => res.writeHead(503).end('not ready'));
    return;
  }
  readBody(req, 1 << 20)
    .then(async (body) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length' && k !== 'connection') headers[k] = v;
      if (inner.authorization !== null) headers['authorization'] = inner.authorization;
      const r = await fetch(new URL(target.pathname + target.search, inner.url), { method: req.method ?? 'GET', headers, ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body }) });
      const text = await r.text();
      res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' }).end(text);
    })
    .catch((e: unknown) => {
      log.error('front: forwarding failed', e);
      if (!res.headersSent) res.writeHead(502).end();
    });
});
await new Promise<void>((resolve, reject) => {
  front.once('error', reject);
  front.listen(Number(portText), '127.0.0.1', () => resolve());
});
log.info(`${kind} gateway for ${supergraphUrl} behind http://127.0.0.1:${portText}/graphql`);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  front.closeAllConnections();
  front.close();
  inner.close().then(() => process.exit(0), () => process.exit(1));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
