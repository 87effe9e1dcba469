import type { PolicyInstalled, RecordedOf } from './events.ts';
import { LEDGER_CHAIN, ledgerReader, parseRecorded } from './ledger.ts';

export type PolicyHistoryEntry = PolicyInstalled & { readonly at: string; readonly seq: number };

/**
 * Every policy revision any gateway installed, oldest first, read from the ledger (for
 * `npm run policy -- history` and the auditors' `policyHistory` query).
 */
export async function readPolicyHistory(opts: { dataDir: string; redisUrl: string | null; redisPrefix?: string }): Promise<PolicyHistoryEntry[]> {
  const reader = ledgerReader(opts);
  const out: PolicyHistoryEntry[] = [];
  try {
    for (let after = 0; ; ) {
      const batch = await reader.read(LEDGER_CHAIN, after, 10_000);
      if (batch.length === 0) break;
      for (const r of batch) {
        // Cheap pre-filter: only policy.installed lines are parsed.
        if (!r.line.includes('"type":"policy.installed"')) continue;
        const e = parseRecorded(r.line) as RecordedOf<'policy.installed'>;
        out.push({ ...e.data, at: e.at, seq: e.seq });
      }
      after = batch[batch.length - 1]!.seq;
    }
  } finally {
    await reader.close();
  }
  return out;
}
