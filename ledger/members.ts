import reference from '../schema/agencies.json' with { type: 'json' };
import { isDivisionCode } from '../common/codes.ts';
import type { Actor, LedgerEvent, MemberKind, MemberTerms, Recorded } from './events.ts';
import { LEDGER_CHAIN, ledgerReader, parseRecorded, type Ledger, type Projection } from './ledger.ts';
import { logKey, logVerifier } from './log/log-key.ts';
import { sealedReader } from './log/sealed-reader.ts';

/**
 * The exchange's members (docs/members.md): administrative bodies and organisations authorised by
 * law, registered, changed, suspended, reinstated and retired by the authority, each step a ledger
 * event. The directory is a fold of those events; nothing else says who is a member.
 */
export type MemberStatus = 'ACTIVE' | 'SUSPENDED' | 'RETIRED';

export const MEMBER_KINDS: readonly MemberKind[] = ['ADMINISTRATIVE_BODY', 'AUTHORISED_ORGANISATION', 'CENTRE'];

/** The authority that runs the exchange: it registers the others and is never suspended or retired. */
export const AUTHORITY_MEMBER = 'itd';

/** The member steps, each one ledger event type. */
export type MemberStep = 'member.registered' | 'member.changed' | 'member.suspended' | 'member.reinstated' | 'member.retired';

export interface Member extends MemberTerms {
  /** `<division>/<code>`, e.g. `445200/tax`. */
  readonly fullId: string;
  readonly status: MemberStatus;
  /** When the member was registered (ISO time of the event). */
  readonly registeredAt: string;
  /** Every step, as the ledger recorded it. */
  readonly history: readonly Recorded[];
}

/** Who is a member, as of the events folded so far. */
export interface MemberDirectory {
  /** The member with this short code, whatever its status. */
  get(code: string): Member | undefined;
  /** Registered and neither suspended nor retired. */
  isActive(code: string): boolean;
  /** Every member ever registered (retired ones too), by code. */
  list(): Member[];
  /**
   * The short code a token, policy line or argument names: a member's short code, or its full id
   * `<division>/<code>`; null when it names no member registered here (another region's id, an
   * unknown code). The member may be suspended or retired: ask `isActive` for that.
   */
  resolve(idOrCode: string): string | null;
}

/** The directory kept current in this process as any process records member steps. */
export interface LiveMembers extends MemberDirectory {
  readonly projection: Projection;
  /** Resolves once every member step recorded before the call is folded. */
  sync(): Promise<void>;
  stop(): void;
}

export function fullIdOf(m: Pick<MemberTerms, 'division' | 'code'>): string {
  return `${m.division}/${m.code}`;
}

/**
 * Folds one ledger event into the members, in ledger order; returns the member it changed, or
 * null. Steps the directory would refuse (a second registration, a step for an unknown code) are
 * ignored: only a hand-made ledger has them.
 */
export function applyMember(members: Map<string, Member>, e: Recorded): Member | null {
  const step = (code: string, change: Partial<Member>): Member | null => {
    const before = members.get(code);
    if (before === undefined || before.status === 'RETIRED') return null;
    const after: Member = { ...before, ...change, history: [...before.history, e] };
    members.set(code, after);
    return after;
  };
  if (e.type === 'member.registered') {
    const t = e.data.member;
    if (members.has(t.code)) return null;
    const m: Member = { ...termsOf(t), fullId: fullIdOf(t), status: 'ACTIVE', registeredAt: e.at, history: [e] };
    members.set(t.code, m);
    return m;
  }
  if (e.type === 'member.changed') return step(e.data.member.code, { ...termsOf(e.data.member), fullId: fullIdOf(e.data.member) });
  if (e.type === 'member.suspended') return members.get(e.data.code)?.status === 'ACTIVE' ? step(e.data.code, { status: 'SUSPENDED' }) : null;
  if (e.type === 'member.reinstated') return members.get(e.data.code)?.status === 'SUSPENDED' ? step(e.data.code, { status: 'ACTIVE' }) : null;
  if (e.type === 'member.retired') return step(e.data.code, { status: 'RETIRED' });
  return null;
}

function termsOf(t: MemberTerms): MemberTerms {
  return { code: t.code, division: t.division, name: t.name, nameEn: t.nameEn, kind: t.kind, responsible: { name: t.responsible.name, contact: t.responsible.contact } };
}

/** Why `step` may not happen to the member with `code` now, or null: the transition rules in one place. */
export function memberRefusal(directory: MemberDirectory, step: MemberStep, code: string): string | null {
  const m = directory.get(code);
  if (step === 'member.registered') {
    if (m === undefined) return null;
    return m.status === 'RETIRED' ? `member code "${code}" belonged to ${m.fullId}, retired: a retired code is never registered again` : `member code "${code}" is already registered (${m.fullId})`;
  }
  if (m === undefined) return `unknown member "${code}"`;
  if (m.status === 'RETIRED') return `member ${code} is retired: it takes no further step`;
  switch (step) {
    case 'member.changed':
      return null;
    case 'member.suspended':
      if (code === AUTHORITY_MEMBER) return `${code} is the authority that runs the exchange: it cannot be suspended`;
      return m.status === 'ACTIVE' ? null : `member ${code} is already suspended`;
    case 'member.reinstated':
      return m.status === 'SUSPENDED' ? null : `member ${code} is not suspended`;
    case 'member.retired':
      return code === AUTHORITY_MEMBER ? `${code} is the authority that runs the exchange: it cannot be retired` : null;
  }
}

/** What is wrong with a member's terms, naming the field, or null. */
export function memberTermsProblem(t: MemberTerms): { readonly field: string; readonly message: string } | null {
  if (!/^[a-z][a-z0-9-]{1,31}$/.test(t.code)) return { field: 'code', message: `code "${t.code.slice(0, 40)}" must be 2–32 lower-case letters, digits or dashes, starting with a letter (e.g. "tax")` };
  if (!isDivisionCode(t.division)) return { field: 'division', message: `division "${t.division.slice(0, 40)}" is not an administrative division code of GB/T 2260 (six digits, e.g. 445200)` };
  if (!(MEMBER_KINDS as readonly string[]).includes(t.kind)) return { field: 'kind', message: `kind must be one of ${MEMBER_KINDS.join(', ')}` };
  const texts: [string, string][] = [['name', t.name], ['nameEn', t.nameEn], ['responsiblePerson', t.responsible.name], ['contact', t.responsible.contact]];
  for (const [field, text] of texts) {
    if (text.trim() === '') return { field, message: `${field} must be written out` };
    if (text.length > 200) return { field, message: `${field} is longer than 200 characters` };
  }
  return null;
}

type ReferenceEntry = { name: string; nameEn: string; division: string; kind: string; responsible: { name: string; contact: string } };

/**
 * The reference members (schema/agencies.json), as members of `region`: the seed of a fresh
 * exchange. The file holds Jieyang's bodies; an exchange of another region gets the same bodies in
 * its own division, so that their short codes and full ids work there.
 */
export function referenceMembers(region: string): MemberTerms[] {
  return Object.entries(reference as Readonly<Record<string, ReferenceEntry>>).map(([code, a]) => ({
    code,
    division: region,
    name: a.name,
    nameEn: a.nameEn,
    kind: a.kind as MemberKind,
    responsible: { name: a.responsible.name, contact: a.responsible.contact },
  }));
}

/** The code of the active member `idOrCode` names, or why it names none (for the argument's error). */
export function activeMember(directory: MemberDirectory, idOrCode: string): { readonly code: string } | { readonly problem: string } {
  const code = directory.resolve(idOrCode);
  if (code === null) return { problem: `unknown agency "${idOrCode.slice(0, 64)}": not a member of this exchange` };
  const status = directory.get(code)?.status;
  return status === 'ACTIVE' ? { code } : { problem: `member ${code} is ${status === 'SUSPENDED' ? 'suspended' : 'retired'}` };
}

/** A directory over a map that the caller keeps folded. */
export function directoryOf(members: ReadonlyMap<string, Member>): MemberDirectory {
  return {
    get: (code) => members.get(code),
    isActive: (code) => members.get(code)?.status === 'ACTIVE',
    list: () => [...members.values()].sort((a, b) => a.code.localeCompare(b.code)),
    resolve(idOrCode) {
      const slash = idOrCode.indexOf('/');
      if (slash < 0) return members.has(idOrCode) ? idOrCode : null;
      const m = members.get(idOrCode.slice(slash + 1));
      return m !== undefined && m.fullId === idOrCode ? m.code : null;
    },
  };
}

/** The reference members as a directory, all active, without a ledger (tools and tests that start from no state). */
export function referenceDirectory(region: string): MemberDirectory {
  const members = new Map<string, Member>();
  for (const t of referenceMembers(region)) members.set(t.code, { ...t, fullId: fullIdOf(t), status: 'ACTIVE', registeredAt: '1970-01-01T00:00:00.000Z', history: [] });
  return directoryOf(members);
}

/** The members as the ledger holds them, kept current as any process records a step. */
export async function openMembers(ledger: Ledger): Promise<LiveMembers> {
  const members = new Map<string, Member>();
  const projection = ledger.project((e) => {
    applyMember(members, e);
  });
  await projection.sync();
  return {
    ...directoryOf(members),
    projection,
    sync: () => projection.sync(),
    stop: () => projection.stop(),
  };
}

/**
 * Registers the reference members on a fresh ledger (actor null), each by `ledger.decide` so that
 * two processes starting at once register each member once. It goes on only while no member step
 * was taken by anyone (so a start interrupted half-way completes the seed, and a directory the
 * authority has touched is never re-seeded). Returns how many it registered.
 */
export async function seedMembers(ledger: Ledger, region: string, live?: LiveMembers): Promise<number> {
  const members = live ?? (await openMembers(ledger));
  const SKIP = new Error('seeded already');
  let registered = 0;
  try {
    for (const terms of referenceMembers(region)) {
      try {
        await ledger.decide(
          members.projection,
          (): LedgerEvent => {
            const touched = members.list().some((m) => m.history.some((e) => e.actor !== null));
            if (touched || members.get(terms.code) !== undefined) throw SKIP;
            return { type: 'member.registered', data: { member: terms } };
          },
          null as Actor | null,
        );
        registered++;
      } catch (e) {
        if (e !== SKIP) throw e;
      }
    }
  } finally {
    if (live === undefined) members.stop();
  }
  return registered;
}

/**
 * The members as the ledger holds them, read once without opening the ledger for writing (the
 * token and policy tools); only events a seal of the log key covers count. On a ledger that has
 * no member yet (no exchange started on this DATA_DIR), the reference members that the first
 * start will register.
 */
export async function readMembers(opts: { dataDir: string; redisUrl: string | null; redisPrefix?: string; logSigningKey?: string | null; region: string }): Promise<MemberDirectory> {
  const reader = sealedReader(ledgerReader(opts), logVerifier(logKey(opts.dataDir, opts.logSigningKey ?? null).publicKeyPem), () => undefined);
  const members = new Map<string, Member>();
  let stepped = false;
  try {
    for (let after = 0; ; ) {
      const batch = await reader.read(LEDGER_CHAIN, after, 10_000);
      if (batch.length === 0) break;
      for (const r of batch) {
        // Cheap pre-filter: only member steps are parsed.
        if (!r.line.includes('"type":"member.')) continue;
        stepped = true;
        applyMember(members, parseRecorded(r.line));
      }
      after = batch[batch.length - 1]!.seq;
    }
  } finally {
    await reader.close();
  }
  return stepped ? directoryOf(members) : referenceDirectory(opts.region);
}
