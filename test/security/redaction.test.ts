import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleProblem, type Bundle, type RedactedRecord } from '../../gateway/audit/bundle.ts';
import type { AuditEntry, AuditRecord } from '../../gateway/audit/record.ts';
import { readCatalog } from '../../gateway/sharing/catalog.ts';
import { hashOf } from '../../ledger/log/chain.ts';
import { startExchange, type Exchange } from '../helpers/exchange.ts';

const ENT = '91445202MA4W3K7PX2';
const REASONS = [null, 'GRANT', 'PROVIDER', 'NOT_SHARED', 'NOT_CATALOGUED', 'PURPOSE_REQUIRED', 'GRANT_REQUIRED', 'PURPOSE_MISMATCH', 'GRANT_EXPIRED', 'AGREEMENT_REQUIRED', 'UNPUBLISHED', 'SUSPENDED', 'UNCONDITIONAL'];

function isRedacted(r: AuditRecord | RedactedRecord): r is RedactedRecord {
  return 'redacted' in r;
}

/**
 * The attack: a redacted record of the same request as a visible one shares its time, request,
 * operation and caller; only the field, its dataset and the decision differ. Each guess is hashed
 * as the log would chain it; a match recovers the record.
 */
/** A record's chain hash as the log computes it: over `prev` and the stored line without its hash. */
function chainHash(body: object, place: RedactedRecord, seal: { from: number; sig: string } | null): string {
  return hashOf(place.prev, JSON.stringify({ ...body, instance: place.instance, seq: place.seq, prev: place.prev, ...(seal ?? {}) }));
}

/** The seal a group commit's last record carries (the log key's signature), when `r` has one. */
function sealOfRecord(r: AuditRecord): { from: number; sig: string } | null {
  const { from, sig } = r as AuditRecord & { from?: unknown; sig?: unknown };
  return typeof from === 'number' && typeof sig === 'string' ? { from, sig } : null;
}

function recover(target: RedactedRecord, seen: AuditRecord, coordinates: ReadonlyMap<string, { id: string; provider: string; class: string }>, known: { salt?: string | undefined; seal: { from: number; sig: string } | null } = { seal: null }): AuditEntry | null {
  for (const [coordinate, ds] of coordinates) {
    for (const decision of ['ALLOW', 'DENY'] as const) {
      for (const reason of REASONS) {
        for (const count of [0, 1]) {
          for (const entityKeys of [seen.entityKeys, []]) {
            for (const grantId of new Set([null, seen.grantId])) {
              const guess: AuditEntry = { ...pick(seen), coordinate, dataset: ds.id, provider: ds.provider, class: ds.class, decision, reason, grantId, entityKeys, count };
              const body = known.salt === undefined ? guess : { ...guess, salt: known.salt };
              if (chainHash(body, target, known.seal) === target.hash) return guess;
            }
          }
        }
      }
    }
  }
  return null;
}

function pick(r: AuditRecord): Pick<AuditEntry, 'ts' | 'requestId' | 'operationName' | 'operationHash' | 'sub' | 'agency' | 'roles' | 'purpose'> {
  return { ts: r.ts, requestId: r.requestId, operationName: r.operationName, operationHash: r.operationHash, sub: r.sub, agency: r.agency, roles: r.roles, purpose: r.purpose };
}

describe('a tax auditor\u2019s export of records outside its scope', () => {
  let ex: Exchange;
  let bundle: Bundle;
  beforeAll(async () => {
    ex = await startExchange();
    // amr reads tax's credit grade (tax is a party) and hrss's insurance data (tax is not), in one request.
    const read = await ex.query(`{ enterprise(uscc: "${ENT}") { name taxCreditGrade insuredEmployees } }`, { agency: 'amr', purpose: 'market-supervision' });
    expect(read.status).toBe(200);
    const res = await ex.query('{ auditExport }', { agency: 'tax', roles: ['auditor'] });
    expect(res.body.errors).toBeUndefined();
    bundle = JSON.parse(res.body.data?.['auditExport'] as string) as Bundle;
  });
  afterAll(async () => {
    await ex.close();
  });

  it('still verifies on its own', () => {
    expect(bundleProblem(bundle)).toBeNull();
  });

  it('cannot be reversed by hashing guesses built from a visible record of the same request', () => {
    const catalog = readCatalog(readFileSync(ex.config.supergraphPath, 'utf8'));
    // The visible record says the request was about an enterprise: its fields are the candidates.
    const coordinates = new Map([...catalog.byCoordinate].filter(([c]) => c.startsWith('Enterprise.') || c === 'Query.enterprise').map(([c, ds]) => [c, { id: ds.id, provider: ds.provider, class: ds.class }]));
    const records = bundle.instances.flatMap((i) => i.records);
    const visible = records.filter((r): r is AuditRecord => !isRedacted(r));
    const seen = visible.find((r) => r.coordinate === 'Enterprise.taxCreditGrade' && r.agency === 'amr');
    expect(seen).toBeDefined();
    // The request's other records (Enterprise.name, Enterprise.insuredEmployees, ...) are redacted for tax.
    const redacted = records.filter(isRedacted).filter((r) => Math.abs(r.seq - seen!.seq) <= 4);
    expect(redacted.length).toBeGreaterThanOrEqual(2);
    // The guessing works: it recovers the visible record from its place in the chain, its salt and its seal.
    const place = { redacted: true as const, instance: seen!.instance, seq: seen!.seq, prev: seen!.prev, hash: seen!.hash };
    expect(recover(place, seen!, coordinates, { salt: seen!.salt, seal: sealOfRecord(seen!) })).toMatchObject({ coordinate: 'Enterprise.taxCreditGrade' });
    const recovered = redacted.map((r) => recover(r, seen!, coordinates)).filter((g) => g !== null);
    expect(recovered).toEqual([]);
  });

  it('carries no salt of a redacted record', () => {
    for (const r of bundle.instances.flatMap((i) => i.records)) if (isRedacted(r)) expect(Object.keys(r).sort()).toEqual(['hash', 'instance', 'prev', 'redacted', 'seq']);
  });
});
