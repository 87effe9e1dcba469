import type { Recorded } from '../../../ledger/events.ts';
import { LEDGER_CHAIN, ledgerReader, parseRecorded } from '../../../ledger/ledger.ts';
import { applyOversight, emptyState, type OversightState } from './state.ts';

/** Where the reports read from: the exchange's storage. */
export interface StorageAt {
  readonly dataDir: string;
  readonly redisUrl: string | null;
  readonly redisPrefix: string;
  /** The PostgreSQL archive (ARCHIVE_URL), where the usage statistics are read when it is set. */
  readonly archiveUrl?: string | null;
}

/**
 * The oversight's fold of the whole ledger, read once (for the reports, which run outside the
 * exchange). `before` sees each event first: the catalog's versions, which `providerOf` answers from.
 */
export async function readOversightState(at: StorageAt, providerOf: (dataset: string) => string | null, before?: (e: Recorded) => void): Promise<OversightState> {
  const state = emptyState();
  const reader = ledgerReader({ dataDir: at.dataDir, redisUrl: at.redisUrl, redisPrefix: at.redisPrefix });
  try {
    for (let after = 0; ; ) {
      const batch = await reader.read(LEDGER_CHAIN, after, 10_000);
      if (batch.length === 0) break;
      for (const r of batch) {
        const e = parseRecorded(r.line);
        before?.(e);
        applyOversight(state, e, providerOf);
      }
      after = batch[batch.length - 1]!.seq;
    }
  } finally {
    await reader.close();
  }
  return state;
}

export function csvCell(v: string | number | null | undefined): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}
