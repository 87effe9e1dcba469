import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../common/config-values.ts';
import { loadSubgraphHostConfig } from '../../subgraphs/kit/host-config.ts';
import { gatewayPublicKey } from '../../common/trust-keys.ts';
import { loadConfig } from '../../gateway/config.ts';
import type { RunningGateway } from '../../gateway/server.ts';
import { loadSubgraph } from '../../subgraphs/index.ts';
import { startSubgraphServer, type RunningSubgraph } from '../../subgraphs/kit/server.ts';
import { postGraphQL, startExchange, type Exchange } from '../helpers/exchange.ts';

const ENTERPRISE = '91445202MA4W3K7PX2';
const QUERY = `{ enterprise(uscc: "${ENTERPRISE}") { name taxpayerStatus } }`;

/** A throwaway CA, a subgraph certificate for 127.0.0.1 and a gateway client certificate, made with the openssl CLI. */
function makeCertificates(dir: string): Record<'ca' | 'serverCert' | 'serverKey' | 'clientCert' | 'clientKey' | 'otherCa', string> {
  const at = (name: string): string => path.join(dir, name);
  const ssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'pipe' });
  };
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', at('ca.key'), '-out', at('ca.pem'), '-days', '2', '-subj', '/CN=exchange test CA');
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', at('other-ca.key'), '-out', at('other-ca.pem'), '-days', '2', '-subj', '/CN=someone else');
  writeFileSync(at('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  writeFileSync(at('client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, cn] of [['server', 'tax subgraph'], ['client', 'exchange gateway']] as const) {
    ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', at(`${name}.key`), '-out', at(`${name}.csr`), '-subj', `/CN=${cn}`);
    ssl('x509', '-req', '-in', at(`${name}.csr`), '-CA', at('ca.pem'), '-CAkey', at('ca.key'), '-CAcreateserial', '-out', at(`${name}.pem`), '-days', '2', '-extfile', at(`${name}.ext`));
  }
  return { ca: at('ca.pem'), serverCert: at('server.pem'), serverKey: at('server.key'), clientCert: at('client.pem'), clientKey: at('client.key'), otherCa: at('other-ca.pem') };
}

describe('subgraphs over TLS (SUBGRAPH_TLS_*)', () => {
  let ex: Exchange;
  let tmp: string;
  let certs: ReturnType<typeof makeCertificates>;
  let tax: RunningSubgraph;
  const gateways: RunningGateway[] = [];

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(tmpdir(), 'exchange-tls-'));
    certs = makeCertificates(tmp);
    ex = await startExchange();
    // The tax subgraph as its own host would start it: HTTPS, and only clients with a certificate from the exchange's CA.
    const host = loadSubgraphHostConfig({ DATA_DIR: ex.config.dataDir, SUPERGRAPH_PATH: ex.config.supergraphPath, PORT: '0', SUBGRAPH_TLS_CERT: certs.serverCert, SUBGRAPH_TLS_KEY: certs.serverKey, SUBGRAPH_TLS_CLIENT_CA: certs.ca });
    const env = { dataDir: host.dataDir, redisUrl: null, redisPrefix: host.redisPrefix, supergraphPath: host.supergraphPath };
    tax = await startSubgraphServer(await loadSubgraph('tax', env), { host: '127.0.0.1', port: host.port, gatewayPublicKey: gatewayPublicKey(host), tls: host.tls });
  });
  afterAll(async () => {
    for (const gw of gateways) await gw.close();
    await tax?.close();
    await ex?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  const gatewayWith = async (env: Record<string, string>): Promise<RunningGateway> => {
    const gw = await ex.startAnotherGateway({ SUBGRAPH_URL_TAX: tax.url, INSTANCE_ID: `tls-gateway-${gateways.length}`, ...env });
    gateways.push(gw);
    return gw;
  };

  it('serves the subgraph at an https URL', () => {
    expect(tax.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/graphql$/);
  });

  it('answers tax fields through a gateway that trusts the CA and shows its client certificate', async () => {
    const gw = await gatewayWith({ SUBGRAPH_TLS_CA: certs.ca, SUBGRAPH_TLS_CLIENT_CERT: certs.clientCert, SUBGRAPH_TLS_CLIENT_KEY: certs.clientKey });
    const res = await postGraphQL(gw.url, QUERY, { agency: 'amr' }, ex.token);
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual({ enterprise: { name: expect.any(String), taxpayerStatus: expect.any(String) } });
  });

  it('reports the https subgraph reachable on /health, probing it with the same CA and client certificate', async () => {
    const gw = await gatewayWith({ SUBGRAPH_TLS_CA: certs.ca, SUBGRAPH_TLS_CLIENT_CERT: certs.clientCert, SUBGRAPH_TLS_CLIENT_KEY: certs.clientKey });
    const res = await fetch(gw.url.replace(/\/graphql$/, '/health'), { headers: { authorization: `Bearer ${ex.token('itd', ['coordinator'])}` } });
    const body = (await res.json()) as { subgraphs: Record<string, { reachable: boolean }> };
    expect(body.subgraphs['tax']).toMatchObject({ reachable: true });
  });

  it('leaves tax fields null (SUBGRAPH_UNAVAILABLE, no URL) through a gateway that trusts another CA', async () => {
    const gw = await gatewayWith({ SUBGRAPH_TLS_CA: certs.otherCa, SUBGRAPH_TLS_CLIENT_CERT: certs.clientCert, SUBGRAPH_TLS_CLIENT_KEY: certs.clientKey });
    const res = await postGraphQL(gw.url, QUERY, { agency: 'amr' }, ex.token);
    expect(res.body.data).toEqual({ enterprise: { name: expect.any(String), taxpayerStatus: null } });
    expect(res.body.errors?.map((e) => e.extensions?.['code'])).toEqual(['SUBGRAPH_UNAVAILABLE']);
    expect(JSON.stringify(res.body)).not.toContain(tax.url);
  });

  it('refuses a connection without the gateway client certificate at the handshake', async () => {
    const outcome = await new Promise<string>((resolve) => {
      const req = request(tax.url, { method: 'POST', ca: readFileSync(certs.ca), headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(`HTTP ${res.statusCode}`);
      });
      req.on('error', () => resolve('refused'));
      req.end('{"query":"{ __typename }"}');
    });
    expect(outcome).toBe('refused');
  });

  it('answers nothing in clear text on the subgraph port', async () => {
    const plain = tax.url.replace(/^https:/, 'http:');
    await expect(fetch(plain, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' })).rejects.toThrow();
  });

  describe('configuration', () => {
    const problemsOf = (load: () => unknown): string => {
      try {
        load();
      } catch (e) {
        if (e instanceof ConfigError) return e.message;
        throw e;
      }
      return '';
    };

    it('names SUBGRAPH_TLS_CERT and SUBGRAPH_TLS_KEY when only one is set', () => {
      expect(problemsOf(() => loadSubgraphHostConfig({ SUBGRAPH_TLS_CERT: certs.serverCert }))).toContain('set SUBGRAPH_TLS_CERT and SUBGRAPH_TLS_KEY together');
    });

    it('refuses a key that is not the certificate\u2019s', () => {
      expect(problemsOf(() => loadSubgraphHostConfig({ SUBGRAPH_TLS_CERT: certs.serverCert, SUBGRAPH_TLS_KEY: certs.clientKey }))).toContain('SUBGRAPH_TLS_KEY is not the private key of SUBGRAPH_TLS_CERT');
    });

    it('refuses a CA file that is not a certificate, without echoing its path', () => {
      const message = problemsOf(() => loadConfig({ SUBGRAPH_TLS_CA: certs.serverKey }));
      expect(message).toContain('SUBGRAPH_TLS_CA is not a PEM certificate');
      expect(message).not.toContain(tmp);
    });

    it('names a missing client certificate file by its base name', () => {
      expect(problemsOf(() => loadConfig({ SUBGRAPH_TLS_CLIENT_CERT: path.join(tmp, 'absent.pem'), SUBGRAPH_TLS_CLIENT_KEY: certs.clientKey }))).toContain('SUBGRAPH_TLS_CLIENT_CERT: cannot read certificate file "absent.pem"');
    });
  });
});
