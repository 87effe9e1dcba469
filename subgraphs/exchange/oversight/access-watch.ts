import type { Grant } from '../../../ledger/events.ts';
import { cstDate } from '../workdays.ts';
import { DayOf } from './usage.ts';

/**
 * R-40 (Art. 40–41) from the access log: conduct that shows in what agencies read. Like the usage
 * statistics, each record is looked at once as the log grows and leaves a few running tallies; a
 * question turns the tallies into findings and never re-reads records.
 *
 * - Purpose outside the grant (misuse, widened use): an agency asked for a dataset under a purpose
 *   its grant does not name (denied `PURPOSE_MISMATCH`), or a read was released under a grant of
 *   the authority's ledger that does not name the declared purpose. One finding per agency,
 *   dataset, purpose and day (China Standard Time), or per grant and purpose.
 * - Repeated probing: one agency denied one dataset in PROBE_THRESHOLD or more requests within
 *   one clock hour (China Standard Time). Denials that say nothing of the data (rate limits,
 *   totals not yet published) do not count.
 */
export const PROBE_THRESHOLD = 10;
export const PROBE_WINDOW_MS = 3_600_000;
/** How many record ids a finding names; it also says how many records it stands for. */
export const EVIDENCE_KEPT = 20;

const PROBING_REASONS: ReadonlySet<string> = new Set(['NOT_SHARED', 'GRANT_REQUIRED', 'PURPOSE_REQUIRED', 'PURPOSE_MISMATCH', 'GRANT_EXPIRED', 'AGREEMENT_REQUIRED', 'SUSPENDED', 'ROLE_REQUIRED']);

/** An access record by its place in the log: the gateway instance's chain and the seq in it. */
export interface RecordRef {
  readonly chain: string;
  readonly seq: number;
}

/** The fields of an access record the watch reads. */
export interface WatchedFacts {
  readonly ts: string;
  readonly requestId: string;
  readonly agency: string;
  readonly provider: string | null;
  readonly dataset: string | null;
  readonly purpose: string | null;
  readonly decision: 'ALLOW' | 'DENY';
  readonly reason: string | null;
  readonly grantId: string | null;
}

/** Requests and records of one kind of conduct, with the first EVIDENCE_KEPT record ids. */
interface Tally {
  readonly agency: string;
  readonly dataset: string;
  readonly provider: string;
  readonly purpose: string | null;
  readonly grantId: string | null;
  requests: number;
  records: number;
  lastRequest: string;
  first: string;
  last: string;
  /** Packed record ids: chain index × 2^40 + seq (one number each, for a small footprint). */
  readonly evidence: number[];
  /** A probe that reached the threshold (listed in `probing`). */
  reached: boolean;
  /** Its finding, made once and read live ever after. */
  found?: Found;
}

/** A finding in the shape of every finding (see findings.ts); its text and records are worked out when read. */
export interface AccessFinding {
  readonly id: string;
  readonly kind: 'PURPOSE_OUTSIDE_GRANT' | 'REPEATED_PROBING';
  readonly agency: string;
  readonly requestId: null;
  readonly dataset: string;
  readonly at: string;
  readonly description: string;
  readonly evidence: readonly number[];
  readonly records: readonly RecordRef[];
  readonly recordCount: number;
}

const NO_SEQS: readonly number[] = Object.freeze([]);

/** One finding of the watch; its description and records are made when read (no closure per finding). */
class Found implements AccessFinding {
  readonly requestId = null;
  readonly evidence = NO_SEQS;
  readonly agency: string;
  readonly dataset: string;
  constructor(
    readonly id: string,
    readonly kind: AccessFinding['kind'],
    private readonly tally: Tally,
    private readonly watch: AccessWatch,
    /** The day (a purpose denied), the hour (probing, China Standard Time ISO), or the grant (widened use). */
    private readonly when: string,
    private readonly grant: Grant | null,
  ) {
    this.agency = tally.agency;
    this.dataset = tally.dataset;
  }
  get at(): string {
    return this.tally.first;
  }
  get recordCount(): number {
    return this.tally.records;
  }
  get description(): string {
    const t = this.tally;
    if (this.kind === 'REPEATED_PROBING') {
      return `${t.agency} was denied ${t.dataset} of ${t.provider} in ${t.requests} requests within the hour from ${this.when.slice(0, 10)} ${this.when.slice(11, 13)}:00 (China Standard Time); ${PROBE_THRESHOLD} in one hour is probing (R-40)`;
    }
    if (this.grant !== null) {
      return `${t.agency} read ${t.dataset} of ${t.provider} under grant ${this.grant.id}, which names ${this.grant.purposes.join(', ')}, for the purpose "${t.purpose ?? ''}" in ${t.requests} request(s) from ${t.first} to ${t.last} (R-40: widened use)`;
    }
    return `${t.agency} asked for ${t.dataset} of ${t.provider} under the purpose "${t.purpose ?? ''}", which its grant does not name, in ${t.requests} request(s) on ${this.when}; the gateway denied them (R-24, R-40)`;
  }
  get records(): RecordRef[] {
    return this.watch.refs(this.tally);
  }
}

/** An agency's allowed reads of one dataset: how many, and the first and last. */
export interface Reads {
  readonly count: number;
  readonly records: readonly RecordRef[];
}

const SEQ_SPACE = 2 ** 40;
const compact = (day: string): string => day.replaceAll('-', '');

export class AccessWatch {
  private readonly chains: string[] = [];
  private readonly chainIndex = new Map<string, number>();
  /** agency, dataset, clock hour → denials that could be probing. */
  private readonly probes = new Map<string, Tally>();
  /** The probes that reached PROBE_THRESHOLD requests, in the order they did. */
  private readonly probing: Tally[] = [];
  /** agency, dataset, purpose, day → PURPOSE_MISMATCH denials. */
  private readonly mismatches = new Map<string, Tally>();
  /** agency, dataset, purpose, grant → reads released under a grant. */
  private readonly granted = new Map<string, Tally>();
  /** agency, dataset → reads of another agency's data released (evidence the data was obtained). */
  private readonly obtained = new Map<string, Tally>();
  private readonly day = new DayOf();

  /** Looks at one record once; `chain` and `seq` name it in the access log. */
  add(chain: string, seq: number, r: WatchedFacts): void {
    if (r.dataset === null || r.provider === null || r.provider === r.agency) return;
    if (r.decision === 'ALLOW') {
      this.tally(this.obtained, `${r.agency}\u0000${r.dataset}`, chain, seq, r);
      if (r.grantId !== null) this.tally(this.granted, `${r.agency}\u0000${r.dataset}\u0000${r.purpose ?? ''}\u0000${r.grantId}`, chain, seq, r);
      return;
    }
    if (r.reason === 'PURPOSE_MISMATCH') this.tally(this.mismatches, `${r.agency}\u0000${r.dataset}\u0000${r.purpose ?? ''}\u0000${this.day.of(r.ts)}`, chain, seq, r);
    if (r.reason !== null && PROBING_REASONS.has(r.reason)) {
      const t = this.tally(this.probes, `${r.agency}\u0000${r.dataset}\u0000${Math.floor(Date.parse(r.ts) / PROBE_WINDOW_MS)}`, chain, seq, r);
      if (t.requests >= PROBE_THRESHOLD && !t.reached) {
        t.reached = true;
        this.probing.push(t);
      }
    }
  }

  private tally(map: Map<string, Tally>, key: string, chain: string, seq: number, r: WatchedFacts): Tally {
    let t = map.get(key);
    if (t === undefined) {
      map.set(key, (t = { agency: r.agency, dataset: r.dataset!, provider: r.provider!, purpose: r.purpose, grantId: r.grantId, requests: 0, records: 0, lastRequest: '', first: r.ts, last: r.ts, evidence: [], reached: false }));
    }
    t.records++;
    // One request leaves one record per field, written together: count it once.
    if (t.lastRequest !== r.requestId) {
      t.requests++;
      t.lastRequest = r.requestId;
    }
    if (r.ts < t.first) t.first = r.ts;
    if (r.ts > t.last) t.last = r.ts;
    if (t.evidence.length < EVIDENCE_KEPT) {
      let c = this.chainIndex.get(chain);
      if (c === undefined) {
        c = this.chains.length;
        this.chains.push(chain);
        this.chainIndex.set(chain, c);
      }
      t.evidence.push(c * SEQ_SPACE + seq);
    }
    return t;
  }

  /** The record ids a tally keeps. */
  refs(t: Tally): RecordRef[] {
    return t.evidence.map((n) => ({ chain: this.chains[Math.floor(n / SEQ_SPACE)]!, seq: n % SEQ_SPACE }));
  }

  /**
   * The findings the tallies show now; `grantOf` gives the authority's grants by id. Each finding's
   * description and records are made when read, so listing many costs little.
   */
  findings(grantOf: (id: string) => Grant | undefined): AccessFinding[] {
    const found: AccessFinding[] = [];
    for (const t of this.mismatches.values()) {
      const day = cstDate(new Date(t.first));
      found.push((t.found ??= new Found(`purpose-${t.agency}-${t.dataset}-${t.purpose ?? ''}-${compact(day)}`, 'PURPOSE_OUTSIDE_GRANT', t, this, day, null)));
    }
    for (const t of this.granted.values()) {
      const grant = grantOf(t.grantId!);
      if (grant === undefined || grant.purposes.includes('*') || (t.purpose !== null && grant.purposes.includes(t.purpose))) continue;
      found.push(new Found(`widened-${t.grantId}-${t.purpose ?? ''}`, 'PURPOSE_OUTSIDE_GRANT', t, this, '', grant));
    }
    for (const t of this.probing) {
      if (t.found === undefined) {
        const hour = new Date(Math.floor(Date.parse(t.first) / PROBE_WINDOW_MS) * PROBE_WINDOW_MS + 8 * PROBE_WINDOW_MS).toISOString();
        t.found = new Found(`probing-${t.agency}-${t.dataset}-${compact(hour.slice(0, 10))}${hour.slice(11, 13)}`, 'REPEATED_PROBING', t, this, hour, null);
      }
      found.push(t.found);
    }
    return found;
  }

  /** `consumer`'s allowed reads of `dataset`: evidence that it obtained the data through the exchange. */
  reads(consumer: string, dataset: string): Reads {
    const t = this.obtained.get(`${consumer}\u0000${dataset}`);
    return t === undefined ? { count: 0, records: [] } : { count: t.records, records: this.refs(t) };
  }
}
