import type { Ledger } from '../../ledger/ledger.ts';
import type { PolicyRevisionRecord } from './revisions.ts';

/**
 * Records each policy revision this gateway installs in the authority's ledger, in the order
 * installed. A restart that installs the revision this instance last recorded records nothing,
 * so the history shows changes, not starts.
 */
export function revisionRecorder(ledger: Ledger, instance: string, warn: (line: string) => void): { record(rev: PolicyRevisionRecord): void; drain(): Promise<void> } {
  const last = new Map<string, string>();
  const projection = ledger.project((e) => {
    if (e.type === 'policy.installed') last.set(e.data.instance, e.data.hash);
  });
  const SAME = new Error('already recorded');
  let chain: Promise<void> = Promise.resolve();
  return {
    record(rev) {
      chain = chain
        .then(() =>
          ledger.decide(
            projection,
            () => {
              if (last.get(instance) === rev.hash) throw SAME;
              return { type: 'policy.installed', data: { hash: rev.hash, previous: rev.previous, added: rev.added, removed: rev.removed, origin: rev.origin, instance } };
            },
            null,
          ),
        )
        .then(
          () => undefined,
          (e: unknown) => {
            if (e !== SAME) warn(`policy: revision ${rev.hash.slice(0, 8)} could not be recorded in the ledger: ${(e as Error).message}`);
          },
        );
    },
    async drain() {
      await chain;
      projection.stop();
    },
  };
}
