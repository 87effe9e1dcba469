import { ids, type Actor, type ProposalTerms, type Recorded, type SupergraphVersion } from './events.ts';
import type { Ledger, Projection } from './ledger.ts';

/**
 * The registry of subgraphs as a fold of the ledger: the proposals members made and what the
 * authority decided, and every supergraph version it published. The newest published version is
 * what every gateway serves; a rollback is a new version with an earlier one's content.
 */
export type ProposalStatus = 'PENDING' | 'APPROVED' | 'REFUSED';

export interface Proposal {
  /** From the proposing event's seq (`ids.proposal`). */
  readonly id: string;
  readonly terms: ProposalTerms;
  /** The check as it stood when proposed (its shape is the check's business). */
  readonly report: unknown;
  readonly proposedAt: string;
  readonly proposedBy: Actor | null;
  readonly status: ProposalStatus;
  readonly decidedAt: string | null;
  readonly decidedBy: Actor | null;
  readonly reasons: string | null;
  /** The version its approval published. */
  readonly version: number | null;
}

/** A published version with its place in the ledger. */
export interface PublishedVersion extends SupergraphVersion {
  readonly seq: number;
  readonly publishedAt: string;
  readonly publishedBy: Actor | null;
}

export interface RegistryState {
  readonly proposals: ReadonlyMap<string, Proposal>;
  /** Oldest first; the last is the current one. */
  readonly versions: readonly PublishedVersion[];
  /** Subgraph name → the member that first published it: a name stays that member's, rolled back or not. */
  readonly owners: ReadonlyMap<string, string>;
}

interface MutableState {
  proposals: Map<string, Proposal>;
  versions: PublishedVersion[];
  owners: Map<string, string>;
}

export function emptyRegistryState(): MutableState {
  return { proposals: new Map(), versions: [], owners: new Map() };
}

/** Folds one event into the state; returns the version it published, if it published one. */
export function applyRegistryEvent(s: MutableState, e: Recorded): PublishedVersion | null {
  // The registry's own events; the rest of the ledger is other folds' business.
  if (e.type === 'subgraph.proposed') {
    const id = ids.proposal(e.seq);
    s.proposals.set(id, { id, terms: e.data.proposal, report: e.data.report, proposedAt: e.at, proposedBy: e.actor, status: 'PENDING', decidedAt: null, decidedBy: null, reasons: null, version: null });
  } else if (e.type === 'subgraph.refused') {
    const p = s.proposals.get(e.data.id);
    if (p !== undefined) s.proposals.set(p.id, { ...p, status: 'REFUSED', decidedAt: e.at, decidedBy: e.actor, reasons: e.data.reasons });
  } else if (e.type === 'supergraph.published') {
    const v: PublishedVersion = { ...e.data, seq: e.seq, publishedAt: e.at, publishedBy: e.actor };
    s.versions.push(v);
    for (const sg of v.subgraphs) if (!s.owners.has(sg.name)) s.owners.set(sg.name, sg.member);
    const p = v.proposal === null ? undefined : s.proposals.get(v.proposal);
    if (p !== undefined) s.proposals.set(p.id, { ...p, status: 'APPROVED', decidedAt: e.at, decidedBy: e.actor, reasons: v.reasons, version: v.version });
    return v;
  }
  return null;
}

export function currentOf(s: RegistryState): PublishedVersion | null {
  return s.versions[s.versions.length - 1] ?? null;
}

/** The registry kept current in this process. Live state: read it, do not keep it across awaits. */
export interface Registry extends RegistryState {
  /** The fold, for `ledger.decide` on the registry's state. */
  readonly projection: Projection;
  /** The newest published version, or null before the first. */
  current(): PublishedVersion | null;
  /** Called with each version published after the call, in ledger order, exactly once. */
  onPublished(listener: (version: PublishedVersion) => void): () => void;
  /** Resolves once every event recorded before the call is folded. */
  sync(): Promise<void>;
  stop(): void;
}

export async function openRegistry(ledger: Ledger): Promise<Registry> {
  const state = emptyRegistryState();
  const listeners = new Set<(v: PublishedVersion) => void>();
  const projection = ledger.project((e) => {
    const v = applyRegistryEvent(state, e);
    if (v !== null) for (const l of listeners) l(v);
  });
  await projection.sync();
  return {
    proposals: state.proposals,
    versions: state.versions,
    owners: state.owners,
    projection,
    current: () => currentOf(state),
    onPublished(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    sync: () => projection.sync(),
    stop() {
      listeners.clear();
      projection.stop();
    },
  };
}

/** The version every gateway serves now, read once (null before the first is published). */
export async function currentVersion(ledger: Ledger): Promise<PublishedVersion | null> {
  const registry = await openRegistry(ledger);
  try {
    return registry.current();
  } finally {
    registry.stop();
  }
}
