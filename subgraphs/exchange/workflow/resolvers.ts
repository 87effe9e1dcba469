import { GraphQLError } from 'graphql';
import purposes from '../../../schema/purposes.json' with { type: 'json' };
import type { SubgraphContext } from '../../kit/context.ts';
import { purposeProblem, type CataloguedEntries } from '../../../common/catalogued-purposes.ts';
import { providerOf } from '../../../common/declarations.ts';
import { ids, type Actor, type GrantTerms, type LedgerEvent, type Recorded } from '../../../ledger/events.ts';
import { openGrantStore } from '../../../ledger/grants.ts';
import type { Ledger } from '../../../ledger/ledger.ts';
import { activeMember, type MemberDirectory } from '../../../ledger/members.ts';
import { agreementResolvers, type DatasetLookup } from './agreements.ts';
import { apply, daysLeft, refusal, statusOf, timeliness, type SharingRequest, type Step, type Timeliness } from './state.ts';

/** The authority: its coordinators decide escalated requests (R-22). */
const AUTHORITY = 'itd';

function bad(argument: string, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', argument } });
}

function forbidden(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'FORBIDDEN' } });
}

function written(argument: string, text: string | null | undefined): string {
  if (text === null || text === undefined || text.trim() === '') throw bad(argument, `${argument} must be written out: an empty answer is not a reason (R-22)`);
  return text.trim();
}

function isoDate(argument: string, text: string): string {
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(Date.parse(text))) throw bad(argument, `${argument} must be an ISO date, got "${text}"`);
  return text;
}

function futureDate(argument: string, text: string, now: Date): string {
  if (Date.parse(isoDate(argument, text)) <= now.getTime()) throw bad(argument, `${argument} must be in the future, got "${text}"`);
  return text;
}

/** How often grants past their validity are looked for, to record their expiry. */
const EXPIRY_SWEEP_MS = 1000;

export interface WorkflowDeps {
  readonly ledger: Ledger;
  readonly dataDir: string;
  /**
   * The current catalog: a dataset's declaration (provider, class, sensitivity), and the entries
   * whose purposes bind requests and grants (R-13, R-24). Asked on every step, so a request names
   * the datasets of the version published last.
   */
  readonly datasets: DatasetLookup;
  readonly entries: () => CataloguedEntries;
  readonly now?: () => Date;
  /** The exchange's members, live: requests go to active members; reports name any member. */
  readonly members: MemberDirectory;
}

/**
 * The R-21/R-22 sharing-request workflow: a consumer files, the provider answers in writing within
 * 15 working days, a refusal or a missed deadline may be escalated to the authority's coordinator.
 * Approval files grants in the authority's store, which every gateway applies at once.
 */
export async function workflow(deps: WorkflowDeps) {
  const now = deps.now ?? (() => new Date());
  const { ledger } = deps;
  const requests = new Map<string, SharingRequest>();
  const expiryRecorded = new Set<string>();
  const projection = ledger.project((e) => {
    apply(requests, e);
    if (e.type === 'grant.expired') expiryRecorded.add(e.data.id);
  });
  await projection.sync();
  const grants = await openGrantStore({ dataDir: deps.dataDir, redisUrl: null, ledger });
  const agreements = await agreementResolvers({ ledger, datasets: deps.datasets, now, members: deps.members });
  const actorOf = (ctx: SubgraphContext): Actor => ({ sub: ctx.caller.sub, agency: ctx.caller.agency });

  // Expiry is a step of its own (R-38): the gateway stops a grant at validUntil by itself; this
  // records that it happened, once, whichever exchange instance sees it first.
  const ALREADY = new Error('already recorded');
  let sweeping = Promise.resolve();
  const sweep = async (): Promise<void> => {
    const t = now().getTime();
    for (const g of [...(await grants.snapshot()).grants.values()]) {
      if (expiryRecorded.has(g.id) || Date.parse(g.validUntil) > t) continue;
      await ledger
        .decide(
          projection,
          () => {
            if (expiryRecorded.has(g.id)) throw ALREADY;
            return { type: 'grant.expired', data: { id: g.id, requestId: g.requestId ?? null, validUntil: g.validUntil } };
          },
          null,
        )
        .catch((e: unknown) => {
          if (e !== ALREADY) throw e;
        });
    }
  };
  const timer = setInterval(() => {
    sweeping = sweeping.then(sweep).catch(() => undefined); // retried on the next tick
  }, EXPIRY_SWEEP_MS);
  timer.unref();

  const find = (id: string, ctx: SubgraphContext): SharingRequest => {
    const r = requests.get(id);
    const a = ctx.caller.agency;
    if (r === undefined || (a !== r.consumer && a !== r.provider && a !== AUTHORITY)) throw bad('id', `no sharing request ${id} that your agency is party to`);
    return r;
  };
  const check = (r: SharingRequest, step: Step): void => {
    const why = refusal(r, step, now());
    if (why !== null) throw bad('id', why);
  };
  /**
   * One request step: `decide` validates against the request as folded up to the ledger's end and
   * returns the event; if another instance recorded something meanwhile, it runs again on the new
   * state, so two answers to one request can never both be recorded.
   */
  const stepOf = async (ctx: SubgraphContext, id: string, decide: (r: SharingRequest) => LedgerEvent): Promise<ReturnType<typeof view>> => {
    // The request may have been filed by another process a moment ago: look it up on the fold up to the ledger's end.
    await projection.sync();
    find(id, ctx);
    await ledger.decide(projection, () => decide(find(id, ctx)), actorOf(ctx));
    return view(requests.get(id)!);
  };
  const grantTerms = (r: SharingRequest, validUntil: string, conditions: string | null): GrantTerms[] => {
    // A dataset a later version removed is granted to no one new; grants already issued stay.
    const gone = r.datasets.find((d) => deps.datasets.get(d) === undefined);
    if (gone !== undefined) throw bad('id', `request ${r.id} cannot be granted: dataset ${gone} is no longer in the catalog`);
    const uncatalogued = purposeProblem(r.datasets, r.purposes, deps.entries());
    if (uncatalogued !== null) throw bad('id', `request ${r.id} cannot be granted: ${uncatalogued}`);
    return r.datasets.map((dataset) => ({ consumer: r.consumer, dataset, purposes: r.purposes, validFrom: now().toISOString(), validUntil, conditions, requestId: r.id }));
  };
  const view = (r: SharingRequest) => ({
    ...r,
    status: statusOf(r, now()),
    workingDaysLeft: daysLeft(r, now()),
    timeliness: timeliness(r, now()),
    history: r.history.map((e) => ({ at: e.at, type: e.type, sub: e.actor?.sub ?? null, agency: e.actor?.agency ?? null, detail: detailOf(e) })),
  });

  return {
    async close(): Promise<void> {
      clearInterval(timer);
      await sweeping;
      projection.stop();
      agreements.close();
      await grants.close();
    },
    Query: {
      ...agreements.Query,
      sharingRequests: (_: unknown, args: { role: 'CONSUMER' | 'PROVIDER'; status?: string | null }, ctx: SubgraphContext) =>
        [...requests.values()]
          .filter((r) => (args.role === 'CONSUMER' ? r.consumer : r.provider) === ctx.caller.agency)
          .filter((r) => args.status === undefined || args.status === null || statusOf(r, now()) === args.status)
          .map(view),
      sharingRequest: (_: unknown, args: { id: string }, ctx: SubgraphContext) => view(find(args.id, ctx)),
      deadlineRecord: (_: unknown, args: { provider?: string | null }) => {
        // Any member, retired ones too: their record stays.
        const provider = args.provider ? deps.members.resolve(args.provider) : null;
        if (args.provider && provider === null) throw bad('provider', `unknown provider agency "${args.provider.slice(0, 64)}": not a member of this exchange`);
        const rows = new Map<string, Record<Timeliness, number>>();
        for (const r of requests.values()) {
          if (provider !== null && r.provider !== provider) continue;
          let row = rows.get(r.provider);
          if (row === undefined) rows.set(r.provider, (row = { ON_TIME: 0, LATE: 0, MISSED: 0, OPEN: 0, WITHDRAWN: 0 }));
          row[timeliness(r, now())]++;
        }
        return [...rows].sort(([a], [b]) => a.localeCompare(b)).map(([provider, c]) => ({
          provider,
          received: c.ON_TIME + c.LATE + c.MISSED + c.OPEN + c.WITHDRAWN,
          answeredOnTime: c.ON_TIME,
          answeredLate: c.LATE,
          missed: c.MISSED,
          open: c.OPEN,
        }));
      },
    },
    Mutation: {
      ...agreements.Mutation,
      fileSharingRequest: async (
        _: unknown,
        args: { provider: string; datasets: string[]; purposes: string[]; legalBasis: string; justification: string; validUntil: string },
        ctx: SubgraphContext,
      ) => {
        const consumer = ctx.caller.agency;
        const member = activeMember(deps.members, args.provider);
        if ('problem' in member) throw bad('provider', member.problem);
        const provider = member.code;
        if (provider === consumer) throw bad('provider', 'an agency reads its own data without a request');
        if (args.datasets.length === 0) throw bad('datasets', 'name at least one dataset');
        for (const id of args.datasets) {
          const ds = deps.datasets.get(id);
          if (ds === undefined) throw bad('datasets', `unknown dataset "${id}": no catalogued dataset has this id (see Query.catalog); for data no dataset holds yet, ask the agency that holds it with requestUncatalogued(provider, data, purpose, legalBasis, justification) (R-21)`);
          if (ds.provider !== provider) throw bad('datasets', `dataset ${id} is provided by ${ds.provider}, not ${provider}`);
          if (ds.class === 'UNCONDITIONAL') throw bad('datasets', `dataset ${id} is UNCONDITIONAL: read it directly, no request needed (R-20)`);
          if (ds.class === 'NOT_SHARED') throw bad('datasets', `dataset ${id} is NOT_SHARED: it cannot be requested (R-4)`);
        }
        if (args.purposes.length === 0) throw bad('purposes', 'name at least one purpose (R-24)');
        for (const p of args.purposes) if (!Object.hasOwn(purposes, p)) throw bad('purposes', `unknown purpose code "${p}"`);
        const uncatalogued = purposeProblem(args.datasets, args.purposes, deps.entries());
        if (uncatalogued !== null) throw bad('purposes', uncatalogued);
        const validUntil = futureDate('validUntil', args.validUntil, now());
        const filed = await ledger.record(
          {
            type: 'request.filed',
            data: {
              consumer,
              provider,
              datasets: [...new Set(args.datasets)],
              purposes: [...new Set(args.purposes)],
              legalBasis: written('legalBasis', args.legalBasis),
              justification: written('justification', args.justification),
              validUntil,
              receivedAt: now().toISOString(),
            },
          },
          actorOf(ctx),
        );
        return view(requests.get(ids.request(filed))!);
      },
      approveSharingRequest: async (_: unknown, args: { id: string; conditions?: string | null; validUntil?: string | null }, ctx: SubgraphContext) => {
        const conditions = args.conditions?.trim() || null;
        return stepOf(ctx, args.id, (r) => {
          if (ctx.caller.agency !== r.provider) throw forbidden(`only ${r.provider}, the provider, answers request ${r.id}`);
          check(r, 'request.approved');
          const validUntil = args.validUntil ? futureDate('validUntil', args.validUntil, now()) : r.validUntil;
          return { type: 'request.approved', data: { id: r.id, conditions, grants: grantTerms(r, validUntil, conditions) } };
        });
      },
      refuseSharingRequest: async (_: unknown, args: { id: string; reasons: string }, ctx: SubgraphContext) => {
        const reasons = written('reasons', args.reasons);
        return stepOf(ctx, args.id, (r) => {
          if (ctx.caller.agency !== r.provider) throw forbidden(`only ${r.provider}, the provider, answers request ${r.id}`);
          check(r, 'request.refused');
          return { type: 'request.refused', data: { id: r.id, reasons } };
        });
      },
      withdrawSharingRequest: async (_: unknown, args: { id: string }, ctx: SubgraphContext) => {
        return stepOf(ctx, args.id, (r) => {
          if (ctx.caller.agency !== r.consumer) throw forbidden(`only ${r.consumer}, who filed request ${r.id}, may withdraw it`);
          check(r, 'request.withdrawn');
          return { type: 'request.withdrawn', data: { id: r.id } };
        });
      },
      escalateSharingRequest: async (_: unknown, args: { id: string; reasons: string }, ctx: SubgraphContext) => {
        const reasons = written('reasons', args.reasons);
        return stepOf(ctx, args.id, (r) => {
          if (ctx.caller.agency !== r.consumer) throw forbidden(`only ${r.consumer}, who filed request ${r.id}, may escalate it`);
          check(r, 'request.escalated');
          return { type: 'request.escalated', data: { id: r.id, reasons } };
        });
      },
      decideEscalation: async (_: unknown, args: { id: string; approve: boolean; reasons: string; validUntil?: string | null }, ctx: SubgraphContext) => {
        if (ctx.caller.agency !== AUTHORITY || !ctx.caller.roles.includes('coordinator')) throw forbidden('only a coordinator of the authority (itd) decides escalated requests (R-22)');
        const reasons = written('reasons', args.reasons);
        return stepOf(ctx, args.id, (r) => {
          check(r, 'request.decided');
          const grantsOf = args.approve ? grantTerms(r, args.validUntil ? futureDate('validUntil', args.validUntil, now()) : r.validUntil, null) : [];
          return { type: 'request.decided', data: { id: r.id, approve: args.approve, reasons, grants: grantsOf } };
        });
      },
      revokeGrant: async (_: unknown, args: { id: string; reasons: string }, ctx: SubgraphContext) => {
        const reasons = written('reasons', args.reasons);
        const snapshot = await grants.snapshot();
        await ledger.decide(
          projection,
          () => {
            const grant = snapshot.grants.get(args.id);
            if (grant === undefined) throw bad('id', `no grant ${args.id} is in force`);
            // The grant may name a dataset a later version removed: its provider still revokes it.
            const provider = deps.datasets.get(grant.dataset)?.provider ?? providerOf(grant.dataset);
            const coordinator = ctx.caller.agency === AUTHORITY && ctx.caller.roles.includes('coordinator');
            if (ctx.caller.agency !== provider && !coordinator) throw forbidden(`only ${provider}, the provider, or a coordinator of the authority revokes grant ${args.id}`);
            return { type: 'grant.revoked', data: { id: args.id, requestId: grant.requestId ?? null, reasons } };
          },
          actorOf(ctx),
        );
        return true;
      },
    },
  };
}

/** The one line a request's history shows for an event of it. */
function detailOf(e: Recorded): string | null {
  if (e.type === 'grant.expired') return `grant ${e.data.id} ended at ${e.data.validUntil}`;
  if (e.type === 'grant.revoked') return `grant ${e.data.id}: ${e.data.reasons}`;
  if (e.type === 'request.refused' || e.type === 'request.escalated' || e.type === 'request.decided') return e.data.reasons;
  if (e.type === 'request.approved' && e.data.grants.length > 0) {
    return `grants ${e.data.grants.map((_, i) => ids.grant(e.data.id, i)).join(', ')}${e.data.conditions ? `; conditions: ${e.data.conditions}` : ''}`;
  }
  return null;
}
