import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import datasets from '../../schema/catalog/datasets.json' with { type: 'json' };
import type { CatalogEntry } from '../../ledger/events.ts';
import { readCatalog } from '../../gateway/sharing/catalog.ts';
import { openSharingPolicy, type SharingPolicy } from '../../gateway/sharing/policy.ts';
import type { Caller } from '../../gateway/sharing/types.ts';
import { openLedger, type Ledger } from '../../ledger/ledger.ts';
import { compose, referenceSubgraphs } from '../../subgraphs/compose.ts';
import { startExchange, type Exchange, type GraphQLResponse } from '../helpers/exchange.ts';
import { ROOT } from '../helpers/root.ts';
import { hashOf, untilServed } from '../helpers/supergraph-versions.ts';
import { answerWhen } from '../helpers/wait.ts';

const REFERENCE = datasets as unknown as Record<string, CatalogEntry>;
const SUPERGRAPH = readFileSync(path.join(ROOT, 'schema/supergraph.graphql'), 'utf8');
/** A published version's catalog that adds environmental enforcement to the purposes of the enterprise insurance. */
const VERSION_ENTRIES: Record<string, CatalogEntry> = {
  ...REFERENCE,
  'hrss.enterprise-insurance': { ...REFERENCE['hrss.enterprise-insurance']!, purposes: [...REFERENCE['hrss.enterprise-insurance']!.purposes, 'environmental-enforcement'] },
};
const eeb: Caller = { sub: 'eeb-1', agency: 'eeb', roles: [], purpose: 'environmental-enforcement' };

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function policyWith(grantLine: string, entries?: Record<string, CatalogEntry>): Promise<SharingPolicy> {
  const tmp = mkdtempSync(path.join(tmpdir(), 'exchange-version-purposes-'));
  cleanups.push(() => rmSync(tmp, { recursive: true, force: true }));
  const policyDir = path.join(tmp, 'policies');
  cpSync(path.join(ROOT, 'policies'), policyDir, { recursive: true });
  writeFileSync(path.join(policyDir, 'extra.csv'), `${grantLine}\n`);
  const policy = await openSharingPolicy({ catalog: readCatalog(SUPERGRAPH, entries), policyDir, dataDir: path.join(tmp, 'data'), redisUrl: null, unclassified: 'deny', log: () => undefined });
  cleanups.push(() => policy.close());
  return policy;
}

describe('the gateway checks grant purposes against the catalog entries of the version it serves (R-13, R-24)', () => {
  const line = 'p2, g-x, eeb, hrss.enterprise-insurance, environmental-enforcement, 2026-01-01, 2030-01-01, a law';

  it('refuses a grant line for a purpose only a later version lists while it serves the reference catalog', async () => {
    await expect(policyWith(line)).rejects.toThrow(/purpose "environmental-enforcement" is not catalogued for hrss\.enterprise-insurance/);
  });

  it('accepts the line, and lets the grant read, under a version whose entry lists the purpose', async () => {
    const policy = await policyWith(line, VERSION_ENTRIES);
    expect(policy.decide(eeb, 'Enterprise.insuredEmployees')).toMatchObject({ effect: 'ALLOW', reason: 'GRANT' });
  });

  it('lets a grant for every purpose (*) cover a purpose the version\u2019s entry lists', async () => {
    const star = 'p2, g-y, eeb, hrss.enterprise-insurance, *, 2026-01-01, 2030-01-01, a law';
    expect((await policyWith(star)).decide(eeb, 'Enterprise.insuredEmployees').reason).toBe('PURPOSE_MISMATCH');
    expect((await policyWith(star, VERSION_ENTRIES)).decide(eeb, 'Enterprise.insuredEmployees')).toMatchObject({ effect: 'ALLOW', reason: 'GRANT' });
  });
});

describe('a purpose a published version adds to an entry, end to end (R-13, R-24)', () => {
  let ex: Exchange;
  let ledger: Ledger;
  beforeAll(async () => {
    ex = await startExchange();
    ledger = await openLedger({ dataDir: ex.config.dataDir, redisUrl: null });
  });
  afterAll(async () => {
    await ledger.close();
    await ex.close();
  });
  const insured = (): Promise<GraphQLResponse> => ex.query('{ enterprise(uscc: "91445202MA4W3K7PX2") { insuredEmployees } }', { agency: 'eeb', purpose: 'environmental-enforcement' });

  it('lets eeb request, be granted and read the enterprise insurance for environmental enforcement once the version lists it', async () => {
    const composed = compose(referenceSubgraphs(ROOT));
    if (!composed.ok) throw new Error(composed.errors.join('; '));
    await ledger.record(
      { type: 'supergraph.published', data: { version: 2, hash: hashOf(composed.supergraphSdl), supergraphSdl: composed.supergraphSdl, subgraphs: [], catalog: VERSION_ENTRIES, proposal: null, rollbackOf: null, reasons: 'hrss shares its insurance data for environmental enforcement' } },
      { sub: 'itd-coordinator', agency: 'itd' },
    );
    await untilServed(ex.url, ex.token, '2');
    const filed = await ex.query('mutation { fileSharingRequest(provider: "hrss", datasets: ["hrss.enterprise-insurance"], purposes: ["environmental-enforcement"], legalBasis: "《环境保护法》第五十四条", justification: "环境信用评价", validUntil: "2030-12-31") { id } }', { agency: 'eeb' });
    expect(filed.body.errors).toBeUndefined();
    const id = (filed.body.data?.['fileSharingRequest'] as { id: string }).id;
    const approved = await ex.query(`mutation { approveSharingRequest(id: "${id}") { status } }`, { agency: 'hrss' });
    expect(approved.body.data?.['approveSharingRequest']).toEqual({ status: 'APPROVED' });
    const read = await answerWhen(insured, (r) => r.body.errors === undefined);
    expect(read.body.errors).toBeUndefined();
    expect(read.body.data?.['enterprise']).toEqual({ insuredEmployees: expect.any(Number) });
  });
});
