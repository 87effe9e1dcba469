import type { Pool } from 'pg';
import { normalisedFilter, type AuditFilter, type AuditRecord } from '../common/access-record.ts';
import { openArchivePool } from './archive/pool.ts';
import { queryArchive } from './archive/query.ts';
import { cursorKey, matches } from './audit-filter.ts';
import { fileLogReader } from './log/file-log.ts';
import type { LogReader } from './log/log.ts';
import { redisLogReader } from './log/redis-log.ts';
import { logKey, logVerifier, type LogVerifier } from './log/log-key.ts';
import { sealedReader, type Unproven } from './log/sealed-reader.ts';

export interface AuditLocation {
  readonly dataDir: string;
  readonly redisUrl: string | null;
  readonly redisPrefix: string;
  /** ARCHIVE_URL: when set, auditors' queries read the PostgreSQL archive instead of the log. */
  readonly archiveUrl?: string | null;
  /** LOG_SIGNING_KEY (PEM); null or absent: the development key. Records are shown only under its seals. */
  readonly logSigningKey?: string | null;
}

/** How a reader of the access log checks seals, and where it names what it passed over. */
export interface SealCheck {
  readonly verifier: LogVerifier;
  readonly skipped: (u: Unproven) => void;
  /** Told, after a query, of records at a chain's end no seal covers yet (the CLI names them; a live gateway need not). */
  readonly tails?: (u: Unproven) => void;
}

/** The seal check of `at`'s log key; each forged run is named once per process, not once per query. */
export function sealCheckOf(at: AuditLocation, warn: (line: string) => void): SealCheck {
  const said = new Set<string>();
  return {
    verifier: logVerifier(logKey(at.dataDir, at.logSigningKey ?? null).publicKeyPem),
    skipped(u) {
      const key = `${u.log}/${u.chain}/${u.first}/${u.last}`;
      if (said.has(key)) return;
      said.add(key);
      warn(unprovenLine(u));
    },
  };
}

/** The warning naming records not shown. */
export function unprovenLine(u: Unproven): string {
  return `${u.log}: records ${u.first}..${u.last} of chain ${u.chain} (${u.where}) are not shown: ${u.why}`;
}

/** A reader of the access log wherever this deployment keeps it. */
export function auditLogReader(at: AuditLocation): LogReader {
  return at.redisUrl === null ? fileLogReader(at.dataDir, 'audit') : redisLogReader({ url: at.redisUrl, prefix: at.redisPrefix, log: 'audit' });
}

/** Every whole record of every chain (a torn line is verify's business, never served). */
export async function readAuditRecords(reader: LogReader): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  for (const chain of await reader.chains()) {
    for (let after = 0; ; ) {
      const batch = await reader.read(chain, after, 10_000);
      if (batch.length === 0) break;
      for (const r of batch) {
        try {
          out.push(JSON.parse(r.line) as AuditRecord);
        } catch {
          // reported by verify
        }
      }
      after = batch[batch.length - 1]!.seq;
    }
  }
  return out;
}

/** Records read from a chain at a time: a page's memory is this many lines and the page itself. */
const SCAN_BATCH = 1000;

/**
 * Texts every stored line of a matching record contains (the log writes each record as compact
 * JSON in one field order): a line without them is passed over without being parsed.
 */
function needles(f: AuditFilter): string[] {
  const j = JSON.stringify;
  const out: string[] = [];
  if (f.entityKey !== undefined) out.push(j(f.entityKey));
  if (f.agency !== undefined) out.push(`"agency":${j(f.agency)}`);
  if (f.coordinate !== undefined) out.push(`"coordinate":${j(f.coordinate)}`);
  if (f.dataset !== undefined) out.push(`"dataset":${j(f.dataset)}`);
  return out;
}

/**
 * One page of matching records in (ts, instance, seq) order after the cursor, read chain by chain
 * in batches: whatever the log holds, memory holds one batch and the page's best candidates, never
 * the whole log (`first` may be Infinity for a command-line query that wants every match).
 */
export async function pageAuditRecords(store: LogReader, filter: AuditFilter, page: { first: number; after?: string }, seals?: SealCheck): Promise<{ records: AuditRecord[]; next: string | null }> {
  // One sealed reader per query: it keeps each chain's position, so concurrent queries never share one.
  const sealed = seals === undefined ? null : sealedReader(store, seals.verifier, seals.skipped);
  const reader = sealed ?? store;
  const f = normalisedFilter(filter);
  const after = page.after === undefined ? null : Buffer.from(page.after, 'base64url').toString('utf8');
  const keep = page.first + 1;
  const must = needles(f);
  let best: { key: string; record: AuditRecord }[] = [];
  // Once `best` holds `keep` candidates, anything at or after the worst of them cannot be on the page.
  let worst = null as string | null;
  const trim = (): void => {
    best.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    if (best.length >= keep) {
      best = best.slice(0, keep);
      worst = best[best.length - 1]!.key;
    }
  };
  for (const chain of await reader.chains()) {
    for (let seq = 0; ; ) {
      const batch = await reader.read(chain, seq, SCAN_BATCH);
      if (batch.length === 0) break;
      for (const line of batch) {
        if (must.length > 0 && !must.every((n) => line.line.includes(n))) continue;
        let r: AuditRecord;
        try {
          r = JSON.parse(line.line) as AuditRecord;
        } catch {
          continue; // reported by verify
        }
        if (!matches(r, f)) continue;
        const key = cursorKey(r);
        if ((after !== null && key <= after) || (worst !== null && key >= worst)) continue;
        best.push({ key, record: r });
        if (best.length >= 2 * keep) trim();
      }
      seq = batch[batch.length - 1]!.seq;
    }
  }
  trim();
  if (seals?.tails !== undefined) for (const u of sealed!.unsealed()) seals.tails(u);
  const records = best.slice(0, page.first).map((b) => b.record);
  const next = best.length > page.first ? Buffer.from(best[page.first - 1]!.key).toString('base64url') : null;
  return { records, next };
}

/**
 * One page of records from the archive. PostgreSQL's own errors name hosts and ports: the caller
 * gets a sentence, the operator's log (the shipper's warnings) has the detail.
 */
export function archiveAuditReader(archiveUrl: string) {
  let pool: Pool | null = null;
  const read = async (filter: AuditFilter, page: { first: number; after?: string }): Promise<{ records: AuditRecord[]; next: string | null }> => {
    pool ??= openArchivePool(archiveUrl, 4);
    try {
      const found = await queryArchive(pool, normalisedFilter(filter), page);
      return { records: found.records as AuditRecord[], next: found.next };
    } catch (e) {
      // Errors with a code come from the connection or PostgreSQL; ours name the bad input already.
      const code = (e as { code?: unknown }).code;
      if (typeof code !== 'string') throw e;
      throw new Error(`the access log archive cannot answer now (${code})`, { cause: e });
    }
  };
  return Object.assign(read, {
    async close(): Promise<void> {
      await pool?.end();
      pool = null;
    },
  });
}

/** The auditors' GraphQL fields read through this: the archive when there is one, else the log. */
export function auditReader(at: AuditLocation, warn: (line: string) => void = (l) => process.stderr.write(`${l}\n`)) {
  if (at.archiveUrl !== undefined && at.archiveUrl !== null) return archiveAuditReader(at.archiveUrl);
  const reader = auditLogReader(at);
  const seals = sealCheckOf(at, warn);
  return (filter: AuditFilter, page: { first: number; after?: string }) => pageAuditRecords(reader, filter, page, seals);
}
