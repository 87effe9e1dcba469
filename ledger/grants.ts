import { ids, type Agreement, type Grant, type PolicyRevision, type Recorded, type Suspension } from './events.ts';
import { openLedger, type Ledger } from './ledger.ts';
import { applyAgreement, inForce, type AgreementRecord } from './agreements.ts';

export type { Agreement, Grant, PolicyRevision, Suspension } from './events.ts';

/**
 * What the gateway's policy needs of the ledger: the grants, agreements and suspensions in force
 * and the newest policy revision, as a fold of the ledger's events, with every change told to
 * subscribers in ledger order. A revocation is a new event; nothing is rewritten.
 */
export type GrantChange =
  | { readonly op: 'policy'; readonly revision: PolicyRevision }
  | { readonly op: 'grant'; readonly grant: Grant }
  | { readonly op: 'revoke-grant'; readonly id: string; readonly reason: string }
  | { readonly op: 'agreement'; readonly agreement: Agreement }
  | { readonly op: 'revoke-agreement'; readonly id: string; readonly reason: string }
  | { readonly op: 'suspension'; readonly suspension: Suspension }
  | { readonly op: 'lift-suspension'; readonly id: string; readonly reason: string };

export interface GrantSnapshot {
  readonly grants: ReadonlyMap<string, Grant>;
  readonly agreements: ReadonlyMap<string, Agreement>;
  readonly suspensions: ReadonlyMap<string, Suspension>;
  /** The newest recorded policy revision, if any. */
  readonly policy: PolicyRevision | null;
}

export interface GrantStore {
  readonly kind: 'file' | 'redis';
  /** Records the change in the ledger; resolves once durable and folded into `snapshot()`. */
  apply(change: GrantChange): Promise<void>;
  /** Every change so far, folded. Live: do not keep it across awaits expecting it fixed. */
  snapshot(): Promise<GrantSnapshot>;
  /**
   * Changes folded after the call, in ledger order, each exactly once. Taken in the same tick as
   * the `snapshot()` it follows, nothing falls between the two: both come from one fold.
   */
  subscribe(listener: (change: GrantChange) => void): () => void;
  close(): Promise<void>;
}

/**
 * The grant-side changes one ledger event makes (none for most events). `agreements` is the
 * agreements' life so far, which this folds the event into: an agreement enters the policy only
 * when both parties have signed (R-34), and leaves it when revoked.
 */
export function grantChanges(e: Recorded, agreements: Map<string, AgreementRecord>): GrantChange[] {
  switch (e.type) {
    case 'request.approved':
    case 'request.decided':
      if (e.type === 'request.decided' && !e.data.approve) return [];
      return e.data.grants.map((g, i) => ({ op: 'grant', grant: { ...g, id: ids.grant(e.data.id, i) } }));
    case 'grant.issued':
      return [{ op: 'grant', grant: e.data.grant }];
    case 'grant.revoked':
      return [{ op: 'revoke-grant', id: e.data.id, reason: e.data.reasons }];
    case 'agreement.registered':
    case 'agreement.proposed':
    case 'agreement.countersigned':
    case 'agreement.filed':
    case 'agreement.revoked': {
      const change = applyAgreement(agreements, e);
      if (change === null) return [];
      const now = inForce(change.after);
      if (now !== null) return [{ op: 'agreement', agreement: now }];
      const was = change.before === undefined ? null : inForce(change.before);
      return was === null ? [] : [{ op: 'revoke-agreement', id: was.id, reason: e.type === 'agreement.revoked' ? e.data.reasons : e.type }];
    }
    case 'policy.revision':
      return [{ op: 'policy', revision: e.data.revision }];
    case 'suspension.imposed':
      return [{ op: 'suspension', suspension: { ...e.data.suspension, id: e.data.suspension.id ?? ids.suspension(e.seq) } }];
    case 'suspension.lifted':
      return [{ op: 'lift-suspension', id: e.data.id, reason: e.data.reasons }];
    case 'grant.expired': // a record that it happened: the grant stays on file, and reads of it say GRANT_EXPIRED
    case 'policy.installed':
    case 'request.filed':
    case 'request.refused':
    case 'request.withdrawn':
    case 'request.escalated':
    case 'dataset.updated':
    case 'inconsistency.reported':
    case 'inconsistency.answered':
    case 'totals.confirmed':
    case 'backup.started':
    case 'backup.created':
    case 'backup.failed':
    case 'backup.foreign-restored':
    case 'archive.partition.dropped':
    case 'complaint.filed':
    case 'complaint.answered':
    case 'complaint.decided':
    case 'demand.recorded':
    case 'demand.matched':
    case 'demand.assigned':
    case 'demand.answered':
    case 'case.opened':
    case 'case.ordered':
    case 'case.criticized':
    case 'case.closed':
    case 'evaluation.published':
    case 'log.legacy-sealed':
    case 'disclosure.recorded':
    case 'consent.given':
    case 'member.registered':
    case 'member.changed':
    case 'member.suspended':
    case 'member.reinstated':
    case 'member.retired':
    case 'subgraph.proposed':
    case 'subgraph.refused':
    case 'supergraph.published':
      return [];
  }
}

export function fold(s: { grants: Map<string, Grant>; agreements: Map<string, Agreement>; suspensions: Map<string, Suspension>; policy: PolicyRevision | null }, change: GrantChange): void {
  switch (change.op) {
    case 'policy':
      s.policy = change.revision;
      return;
    case 'grant':
      s.grants.set(change.grant.id, change.grant);
      return;
    case 'revoke-grant':
      s.grants.delete(change.id);
      return;
    case 'agreement':
      s.agreements.set(change.agreement.id, change.agreement);
      return;
    case 'revoke-agreement':
      s.agreements.delete(change.id);
      return;
    case 'suspension':
      s.suspensions.set(change.suspension.id, change.suspension);
      return;
    case 'lift-suspension':
      s.suspensions.delete(change.id);
      return;
  }
}

export interface GrantStoreOptions {
  readonly dataDir: string;
  readonly redisUrl: string | null;
  readonly redisPrefix?: string;
  /** Told when the ledger cannot be read (once per distinct problem); reading is retried. */
  readonly log?: (line: string) => void;
  /** A ledger this process already has open; otherwise the store opens (and closes) its own. */
  readonly ledger?: Ledger;
  /** LOG_SIGNING_KEY for a ledger the store opens itself. */
  readonly logSigningKey?: string | null;
}

export async function openGrantStore(opts: GrantStoreOptions): Promise<GrantStore> {
  const warn = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const ledger =
    opts.ledger ??
    (await openLedger({ dataDir: opts.dataDir, redisUrl: opts.redisUrl, ...(opts.redisPrefix !== undefined ? { redisPrefix: opts.redisPrefix } : {}), logSigningKey: opts.logSigningKey ?? null, sink: { info() {}, warn } }));
  const state = { grants: new Map<string, Grant>(), agreements: new Map<string, Agreement>(), suspensions: new Map<string, Suspension>(), policy: null as PolicyRevision | null };
  const lives = new Map<string, AgreementRecord>();
  const listeners = new Set<(c: GrantChange) => void>();
  const projection = ledger.project((e) => {
    for (const change of grantChanges(e, lives)) {
      fold(state, change);
      for (const l of listeners) l(change);
    }
  });
  await projection.sync();
  return {
    kind: ledger.kind,
    async apply(change) {
      switch (change.op) {
        case 'policy':
          await ledger.record({ type: 'policy.revision', data: { revision: change.revision } }, null);
          break;
        case 'grant':
          await ledger.record({ type: 'grant.issued', data: { grant: change.grant } }, null);
          break;
        case 'revoke-grant':
          await ledger.record({ type: 'grant.revoked', data: { id: change.id, requestId: state.grants.get(change.id)?.requestId ?? null, reasons: change.reason } }, null);
          break;
        case 'agreement':
          await ledger.record({ type: 'agreement.registered', data: { agreement: change.agreement } }, null);
          break;
        case 'revoke-agreement':
          await ledger.record({ type: 'agreement.revoked', data: { id: change.id, reasons: change.reason } }, null);
          break;
        case 'suspension':
          await ledger.record({ type: 'suspension.imposed', data: { suspension: change.suspension } }, null);
          break;
        case 'lift-suspension':
          await ledger.record({ type: 'suspension.lifted', data: { id: change.id, reasons: change.reason } }, null);
          break;
      }
      await projection.sync();
    },
    async snapshot() {
      await projection.sync();
      return state;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      projection.stop();
      listeners.clear();
      if (opts.ledger === undefined) await ledger.close();
    },
  };
}
