/**
 * Everything the authority records, as one typed union: the sharing-request workflow,
 * grants, confidentiality agreements, policy revisions, suspensions and the catalog's reports.
 * Each event is one record of the ledger; state anywhere is a fold of these events. Things an
 * event creates get their id from the event's seq (see `ids`), never from a count in memory.
 */

/** A grant in force from validFrom until (excluding) validUntil (ISO date or date-time). */
export interface Grant {
  readonly id: string;
  readonly consumer: string;
  readonly dataset: string;
  readonly purposes: readonly string[];
  readonly validFrom: string;
  readonly validUntil: string;
  readonly conditions?: string | null;
  readonly requestId?: string | null;
}

export interface Agreement {
  readonly id: string;
  readonly parties: readonly [string, string];
  /** Dataset ids, or ['*'] for every dataset the two exchange. */
  readonly datasets: readonly string[];
  readonly signedOn: string;
  readonly validUntil: string;
  readonly documentRef: string;
  readonly filedWithSecrecyBureau: boolean;
}

/** What one party proposes: the other party (`counterparty`) countersigns the same terms. */
export interface AgreementTerms {
  readonly proposer: string;
  readonly counterparty: string;
  /** Dataset ids, or ['*'] for every dataset the two exchange. */
  readonly datasets: readonly string[];
  readonly validUntil: string;
  readonly documentRef: string;
}

/** A grant as an approval issues it: its id comes from the approving event. */
export type GrantTerms = Omit<Grant, 'id'>;

/** The policy directory's texts as one gateway installed them, so that every instance runs it. */
export interface PolicyRevision {
  /** sha256 of the texts: equal texts, equal id. */
  readonly id: string;
  /** The instance that installed it first. */
  readonly by: string;
  readonly at: string;
  /** model.conf and every *.csv, by file name. */
  readonly texts: Readonly<Record<string, string>>;
  /** Where it came from: a file edit, another instance, or the workflow. */
  readonly origin?: string;
  readonly added?: readonly string[];
  readonly removed?: readonly string[];
}

/** An access suspension: the agency reads none of another agency's data in the dataset (or '*') while in force. */
/** A policy revision one gateway installed: what changed, and where the change came from (docs/policies.md). */
export interface PolicyInstalled {
  /** sha256 of the installed policy: model.conf and every line in force, in a canonical order. */
  readonly hash: string;
  readonly previous: string | null;
  readonly added: readonly string[];
  readonly removed: readonly string[];
  /** 'file': POLICY_DIR; 'instance:<id>': adopted from another gateway; 'workflow': the ledger's grants. */
  readonly origin: string;
  /** The gateway instance that installed it. */
  readonly instance: string;
}

export interface Suspension {
  readonly id: string;
  readonly agency: string;
  /** A dataset id, or '*' for every dataset. */
  readonly dataset: string;
  /** ISO date-times; in force from `from` until (excluding) `until`. */
  readonly from: string;
  readonly until: string;
  readonly reason: string;
}

export interface RequestTerms {
  readonly consumer: string;
  readonly provider: string;
  readonly datasets: readonly string[];
  readonly purposes: readonly string[];
  readonly legalBasis: string;
  readonly justification: string;
  readonly validUntil: string;
  readonly receivedAt: string;
}

export interface InconsistencyReport {
  readonly dataset: string;
  readonly entityKey: string;
  readonly otherDataset: string | null;
  readonly description: string;
  readonly reportedBy: string;
  readonly reportedAt: string;
}

/** What an agency complains about in another agency's conduct. */
export type ComplaintGround = 'REFUSED' | 'LATE' | 'MISUSE';

export interface ComplaintTerms {
  readonly complainant: string;
  readonly against: string;
  readonly ground: ComplaintGround;
  readonly description: string;
  /** The sharing request the complaint is about, when there is one. */
  readonly requestId: string | null;
  readonly filedAt: string;
}

/** A data need an agency records in the demand register (Art. 12–13). */
export interface DemandTerms {
  readonly agency: string;
  /** The data wanted, in the agency's words. */
  readonly data: string;
  readonly duty: string;
  readonly purpose: string;
  readonly legalBasis: string;
  readonly frequency: string;
  readonly recordedAt: string;
  /**
   * The agency asked to provide it, when the consumer addressed the need to it (data no catalogued
   * dataset holds, R-21): that agency answers within the sharing-request deadline. Absent: the
   * authority matches the need or assigns it to the holder.
   */
  readonly provider?: string;
}

/** Obtained data passed on to someone else, as the consumer records it or the provider or authority reports it. */
export interface DisclosureTerms {
  /** The agency that obtained the data through the exchange and passed it on. */
  readonly consumer: string;
  readonly dataset: string;
  /** Who received it: an agency code, an organisation, or "public" for a publication. */
  readonly recipient: string;
  readonly description: string;
  /** YYYY-MM-DD, China Standard Time. */
  readonly disclosedOn: string;
}

/** A provider's consent that a consumer pass its data on to a recipient ('*': anyone). */
export interface ConsentTerms {
  readonly provider: string;
  readonly consumer: string;
  readonly dataset: string;
  readonly recipient: string;
  readonly note: string;
}

/** What a member is (Art. 3): an administrative body, an organisation authorised by law, or a peer centre (levels). */
export type MemberKind = 'ADMINISTRATIVE_BODY' | 'AUTHORISED_ORGANISATION' | 'CENTRE';

/** A member of the exchange as the authority registers it (Art. 3, 36); its full id is `<division>/<code>`. */
export interface MemberTerms {
  /** Unique in the exchange's region: `[a-z][a-z0-9-]{1,31}`. */
  readonly code: string;
  /** GB/T 2260 division code of the member, six digits. */
  readonly division: string;
  readonly name: string;
  readonly nameEn: string;
  readonly kind: MemberKind;
  /** The person the member designates as responsible for sharing, and how to reach them (Art. 36). */
  readonly responsible: { readonly name: string; readonly contact: string };
}

/** One catalog entry, in the shape of schema/catalog/datasets.json, keyed by dataset id where it is used. */
export interface CatalogEntry {
  readonly name: string;
  readonly nameEn: string;
  readonly description: string;
  readonly format: string;
  readonly frequency: string;
  readonly conditions: string;
  readonly purposes: readonly string[];
  readonly lastUpdate?: string;
  readonly provisionMethod?: string;
}

/** A subgraph as the registry knows it: its name, the member that runs it, where it answers, and its SDL with `@dataset`. */
export interface SubgraphSpec {
  readonly name: string;
  readonly member: string;
  readonly url: string;
  readonly sdl: string;
}

/** What a member proposes: a new version of one subgraph (or a new subgraph) and the catalog entries of its datasets. */
export interface ProposalTerms {
  readonly subgraph: SubgraphSpec;
  /** Dataset id → entry, for every dataset the SDL declares. */
  readonly catalog: Readonly<Record<string, CatalogEntry>>;
  readonly note: string;
}

/** A supergraph the authority published: what every gateway serves from this event on. */
export interface SupergraphVersion {
  /** 1, 2, 3, …: one more than the last published. */
  readonly version: number;
  /** sha256 (hex) of `supergraphSdl`. */
  readonly hash: string;
  readonly supergraphSdl: string;
  readonly subgraphs: readonly SubgraphSpec[];
  /** The whole catalog at this version: dataset id → entry. */
  readonly catalog: Readonly<Record<string, CatalogEntry>>;
  /** The proposal it publishes; null for the seed and a rollback. */
  readonly proposal: string | null;
  /** The version a rollback republishes; null otherwise. */
  readonly rollbackOf: number | null;
  readonly reasons: string;
}

/** Event type → its data. */
export interface LedgerEventData {
  'request.filed': RequestTerms;
  'request.approved': { readonly id: string; readonly conditions: string | null; readonly grants: readonly GrantTerms[] };
  'request.refused': { readonly id: string; readonly reasons: string };
  'request.withdrawn': { readonly id: string };
  'request.escalated': { readonly id: string; readonly reasons: string };
  'request.decided': { readonly id: string; readonly approve: boolean; readonly reasons: string; readonly grants: readonly GrantTerms[] };
  /** A grant not made through a request (tests, migrations); its id is given. */
  'grant.issued': { readonly grant: Grant };
  'grant.revoked': { readonly id: string; readonly requestId: string | null; readonly reasons: string };
  'grant.expired': { readonly id: string; readonly requestId: string | null; readonly validUntil: string };
  /** An agreement signed on paper by both parties, recorded in force (migrations, tests); no mutation records it. */
  'agreement.registered': { readonly agreement: Omit<Agreement, 'id'> & { readonly id?: string } };
  /** One party (the actor's agency) signs and proposes; not in force until the other countersigns. */
  'agreement.proposed': { readonly terms: AgreementTerms };
  /** The other party signs: from this event's time the agreement is in force. */
  'agreement.countersigned': { readonly id: string };
  /** The authority's coordinator records that the agreement was filed with the secrecy bureau (state secrets, R-34). */
  'agreement.filed': { readonly id: string; readonly reference: string | null };
  /** A party or the authority's coordinator ends an agreement, or withdraws a proposal. */
  'agreement.revoked': { readonly id: string; readonly reasons: string };
  'policy.revision': { readonly revision: PolicyRevision };
  'policy.installed': PolicyInstalled;
  /** `caseId`: the violation case that imposed it, when a coordinator did through GraphQL. */
  'suspension.imposed': { readonly suspension: Omit<Suspension, 'id'> & { readonly id?: string }; readonly caseId?: string };
  'suspension.lifted': { readonly id: string; readonly reasons: string };
  'dataset.updated': { readonly dataset: string; readonly asOf: string };
  'inconsistency.reported': { readonly report: InconsistencyReport };
  'inconsistency.answered': { readonly id: string; readonly status: 'RESOLVED' | 'REJECTED'; readonly answer: string };
  'totals.confirmed': { readonly year: number; readonly region: string };
  /**
   * A process claims the next backup (decided on the ledger, so two gateways never back up at
   * once); `backup.created` or `backup.failed` from the same `by` ends the claim.
   */
  'backup.started': { readonly by: string };
  /** An archive was made (docs/operations.md): its name and digest, the chain heads it holds, and whether its off-site copy verified. */
  'backup.created': {
    readonly archive: string;
    readonly sha256: string;
    readonly bytes: number;
    readonly heads: readonly { readonly log: string; readonly chain: string; readonly seq: number }[];
    readonly offsite: boolean;
    /** The process that made it (absent in events before the backup schedule). */
    readonly by?: string;
    /** The archive this one adds to (an incremental archive); null or absent: a full archive. */
    readonly parent?: string | null;
  };
  /** A claimed backup made no usable archive; `reason` is the one line the operator would see. */
  'backup.failed': { readonly by: string; readonly reason: string };
  /**
   * An operator restored another exchange's archive (signed by log key `archiveKey`, where this
   * exchange's is `exchangeKey`) with --accept-foreign, saying why.
   */
  'backup.foreign-restored': { readonly archive: string; readonly archiveKey: string; readonly exchangeKey: string; readonly reason: string; readonly by: string };
  /**
   * Retention removed a month partition from the PostgreSQL archive (docs/archive.md): which, the
   * backup that holds its records, and per chain the last record it held (seq and hash, equal in
   * that backup). Recorded in the same step as the drop, so no removal goes unrecorded.
   */
  'archive.partition.dropped': {
    readonly table: string;
    readonly partition: string;
    readonly month: string;
    readonly backup: string | null;
    readonly chains: readonly { readonly chain: string; readonly seq: number; readonly hash: string }[];
  };
  'complaint.filed': { readonly complaint: ComplaintTerms };
  'complaint.answered': { readonly id: string; readonly answer: string };
  'complaint.decided': { readonly id: string; readonly upheld: boolean; readonly reasons: string };
  'demand.recorded': { readonly demand: DemandTerms };
  /** The need is met by catalogued datasets: the agency files a sharing request to their provider. */
  'demand.matched': { readonly id: string; readonly provider: string; readonly datasets: readonly string[]; readonly note: string };
  /** No catalogued dataset meets it: the agency holding the data is to catalog it. */
  'demand.assigned': { readonly id: string; readonly holder: string; readonly note: string };
  /**
   * The agency a demand is addressed to answers in writing: it will catalog the data (naming the
   * subgraph proposal that does, then or in a later answer) or refuses with reasons.
   */
  'demand.answered': { readonly id: string; readonly willCatalog: boolean; readonly answer: string; readonly proposal: string | null };
  /** Onward disclosure of obtained data, with or without the provider's consent. */
  'disclosure.recorded': { readonly disclosure: DisclosureTerms };
  'consent.given': { readonly consent: ConsentTerms };
  /**
   * A violation case against an agency, on findings with their evidence: ledger seqs, and
   * the access-log records (gateway instance chain and seq) of findings drawn from the access log.
   */
  'case.opened': {
    readonly agency: string;
    readonly findings: readonly string[];
    readonly evidence: readonly number[];
    readonly records?: readonly { readonly chain: string; readonly seq: number }[];
    readonly summary: string;
  };
  'case.ordered': { readonly id: string; readonly correction: string; readonly dueBy: string };
  'case.criticized': { readonly id: string; readonly notice: string };
  'case.closed': { readonly id: string; readonly reasons: string };
  /** the annual evaluation as published; `corrects` names the version it replaces (published ones never change). */
  'evaluation.published': { readonly year: number; readonly method: string; readonly rows: readonly EvaluationRow[]; readonly corrects: string | null; readonly note: string };
  /** The authority's coordinator registers a member; the reference members are seeded this way on first start (actor null). */
  'member.registered': { readonly member: MemberTerms };
  /** New terms for a registered member (names, division, kind, responsible person); the code never changes. */
  'member.changed': { readonly member: MemberTerms };
  'member.suspended': { readonly code: string; readonly reasons: string };
  'member.reinstated': { readonly code: string; readonly reasons: string };
  /** For good: a retired member's code is never registered again. */
  'member.retired': { readonly code: string; readonly reasons: string };
  /** A member proposes a subgraph version; `report` is the check as it stood when proposed. */
  'subgraph.proposed': { readonly proposal: ProposalTerms; readonly report: unknown };
  /** The authority refuses a proposal in writing. */
  'subgraph.refused': { readonly id: string; readonly reasons: string };
  /** The authority approved a proposal (or rolled back): from this event every gateway serves `version`. */
  'supergraph.published': SupergraphVersion;
  /** `audit -- seal-legacy`: an operator vouched for chains written before seals existed, up to these heads. */
  'log.legacy-sealed': { readonly heads: readonly { readonly log: string; readonly chain: string; readonly seq: number; readonly hash: string }[] };
}

/** One agency's conduct in a year and its result. */
export interface EvaluationRow {
  readonly agency: string;
  readonly requestsReceived: number;
  readonly answeredOnTime: number;
  readonly answeredLate: number;
  readonly missed: number;
  readonly refusals: number;
  readonly refusalsOverturned: number;
  readonly inconsistencyReports: number;
  readonly inconsistencyAnswered: number;
  readonly complaintsUpheld: number;
  readonly violationCases: number;
  /** R-17; absent from versions published before it was counted. */
  readonly datasetsOverdue?: number;
  readonly score: number;
  readonly result: 'GOOD' | 'FAIR' | 'POOR';
}

export type LedgerEventType = keyof LedgerEventData;

/** One event as recorded: its type and data narrowed together. */
export type LedgerEvent = { [K in LedgerEventType]: { readonly type: K; readonly data: LedgerEventData[K] } }[LedgerEventType];

export interface Actor {
  readonly sub: string;
  readonly agency: string;
}

/** An event with its place in the ledger. */
export type Recorded<E extends LedgerEvent = LedgerEvent> = E & {
  readonly seq: number;
  readonly hash: string;
  /** ISO time the event was recorded. */
  readonly at: string;
  readonly actor: Actor | null;
};

export type RecordedOf<K extends LedgerEventType> = Recorded<Extract<LedgerEvent, { type: K }>>;

/** Ids of what events create, from the creating event's seq. */
export const ids = {
  request: (e: { seq: number; data: { receivedAt: string } }): string => `sr-${e.data.receivedAt.slice(0, 10).replaceAll('-', '')}-${String(e.seq).padStart(4, '0')}`,
  /** A grant issued by approving a request: named after the request, so the two are found together. */
  grant: (requestId: string, index: number): string => `g-${requestId}-${index + 1}`,
  agreement: (seq: number): string => `ag-${seq}`,
  suspension: (seq: number): string => `su-${seq}`,
  inconsistency: (seq: number): string => `ir-${String(seq).padStart(5, '0')}`,
  complaint: (seq: number): string => `cp-${seq}`,
  demand: (seq: number): string => `dm-${seq}`,
  violationCase: (seq: number): string => `case-${seq}`,
  evaluation: (year: number, seq: number): string => `ev-${year}-${seq}`,
  disclosure: (seq: number): string => `dc-${seq}`,
  consent: (seq: number): string => `cn-${seq}`,
  proposal: (seq: number): string => `pr-${seq}`,
};
