import { GraphQLError } from 'graphql';
import agencies from '../../../schema/agencies.json' with { type: 'json' };
import purposes from '../../../schema/purposes.json' with { type: 'json' };
import type { SubgraphContext } from '../../shared/context.ts';
import type { Declaration } from '../../../common/declarations.ts';
import { purposeProblem } from '../../../common/catalogued-purposes.ts';
import type { EventLog, ExchangeEvent } from '../../../ledger/events.ts';
import type { GrantStore } from '../../../ledger/grants.ts';
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
  readonly events: EventLog;
  readonly grants: GrantStore;
  /** Dataset id → its declaration (provider, class, sensitivity), from the supergraph. */
  readonly datasets: ReadonlyMap<string, Declaration & { provider: string }>;
  readonly now?: () => Date;
}

/**
 * The R-21/R-22 sharing-request workflow: a consumer files, the provider answers in writing within
 * 15 working days, a refusal or a missed deadline may be escalated to the authority's coordinator.
 * Approval files grants in the authority's store, which every gateway applies at once.
 */
export async function workflow(deps: WorkflowDeps) {
  const now = deps.now ?? (() => new Date());
  const requests = new Map<string, SharingRequest>();
  const expiryRecorded = new Set<string>();
  for (const e of await deps.events.readAll()) {
    apply(requests, e);
    if (e.type === 'grant.expired') expiryRecorded.add(String(e.data['id']));
  }

  // Expiry is a step of its own (R-38): the gateway stops a grant at validUntil by itself; this
  // records that it happened, once, in the event log and the request's history.
  let sweeping = Promise.resolve();
  const sweep = async (): Promise<void> => {
    const t = now().getTime();
    for (const g of [...(await deps.grants.snapshot()).grants.values()]) {
      if (expiryRecorded.has(g.id) || Date.parse(g.validUntil) > t) continue;
      const event = await deps.events.append({ type: 'grant.expired', actor: null, data: { id: g.id, requestId: g.requestId ?? null, validUntil: g.validUntil } });
      expiryRecorded.add(g.id);
      apply(requests, event);
    }
  };
  const timer = setInterval(() => {
    sweeping = sweeping.then(sweep).catch(() => undefined); // retried on the next tick
  }, EXPIRY_SWEEP_MS);
  timer.unref();

  const record = async (ctx: SubgraphContext, step: Step): Promise<ExchangeEvent> => {
    const event = await deps.events.append({ type: step.type, actor: { sub: ctx.caller.sub, agency: ctx.caller.agency }, data: step as unknown as Record<string, unknown> });
    apply(requests, event);
    return event;
  };
  const find = (id: string, ctx: SubgraphContext): SharingRequest => {
    const r = requests.get(id);
    const a = ctx.caller.agency;
    if (r === undefined || (a !== r.consumer && a !== r.provider && a !== AUTHORITY)) throw bad('id', `no sharing request ${id} that your agency is party to`);
    return r;
  };
  const check = (r: SharingRequest, step: Step['type']): void => {
    const why = refusal(r, step, now());
    if (why !== null) throw bad('id', why);
  };
  const fileGrants = async (r: SharingRequest, validUntil: string, conditions: string | null): Promise<string[]> => {
    const uncatalogued = purposeProblem(r.datasets, r.purposes);
    if (uncatalogued !== null) throw bad('id', `request ${r.id} cannot be granted: ${uncatalogued}`);
    const ids: string[] = [];
    for (const [i, dataset] of r.datasets.entries()) {
      const id = `g-${r.id}-${i + 1}`;
      await deps.grants.apply({ op: 'grant', grant: { id, consumer: r.consumer, dataset, purposes: r.purposes, validFrom: now().toISOString(), validUntil, conditions, requestId: r.id } });
      ids.push(id);
    }
    return ids;
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
    },
    Query: {
      sharingRequests: (_: unknown, args: { role: 'CONSUMER' | 'PROVIDER'; status?: string | null }, ctx: SubgraphContext) =>
        [...requests.values()]
          .filter((r) => (args.role === 'CONSUMER' ? r.consumer : r.provider) === ctx.caller.agency)
          .filter((r) => args.status === undefined || args.status === null || statusOf(r, now()) === args.status)
          .map(view),
      sharingRequest: (_: unknown, args: { id: string }, ctx: SubgraphContext) => view(find(args.id, ctx)),
      deadlineRecord: (_: unknown, args: { provider?: string | null }) => {
        if (args.provider && !Object.hasOwn(agencies, args.provider)) throw bad('provider', `unknown provider agency "${args.provider}"`);
        const rows = new Map<string, Record<Timeliness, number>>();
        for (const r of requests.values()) {
          if (args.provider && r.provider !== args.provider) continue;
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
      fileSharingRequest: async (
        _: unknown,
        args: { provider: string; datasets: string[]; purposes: string[]; legalBasis: string; justification: string; validUntil: string },
        ctx: SubgraphContext,
      ) => {
        const consumer = ctx.caller.agency;
        if (!Object.hasOwn(agencies, args.provider)) throw bad('provider', `unknown provider agency "${args.provider}"`);
        if (args.provider === consumer) throw bad('provider', 'an agency reads its own data without a request');
        if (args.datasets.length === 0) throw bad('datasets', 'name at least one dataset');
        for (const id of args.datasets) {
          const ds = deps.datasets.get(id);
          if (ds === undefined) throw bad('datasets', `unknown dataset "${id}"`);
          if (ds.provider !== args.provider) throw bad('datasets', `dataset ${id} is provided by ${ds.provider}, not ${args.provider}`);
          if (ds.class === 'UNCONDITIONAL') throw bad('datasets', `dataset ${id} is UNCONDITIONAL: read it directly, no request needed (R-20)`);
          if (ds.class === 'NOT_SHARED') throw bad('datasets', `dataset ${id} is NOT_SHARED: it cannot be requested (R-4)`);
        }
        if (args.purposes.length === 0) throw bad('purposes', 'name at least one purpose (R-24)');
        for (const p of args.purposes) if (!Object.hasOwn(purposes, p)) throw bad('purposes', `unknown purpose code "${p}"`);
        const uncatalogued = purposeProblem(args.datasets, args.purposes);
        if (uncatalogued !== null) throw bad('purposes', uncatalogued);
        const validUntil = futureDate('validUntil', args.validUntil, now());
        const id = `sr-${now().toISOString().slice(0, 10).replaceAll('-', '')}-${String(requests.size + 1).padStart(4, '0')}`;
        await record(ctx, {
          type: 'request.filed',
          request: {
            id,
            consumer,
            provider: args.provider,
            datasets: [...new Set(args.datasets)],
            purposes: [...new Set(args.purposes)],
            legalBasis: written('legalBasis', args.legalBasis),
            justification: written('justification', args.justification),
            validUntil,
            receivedAt: now().toISOString(),
          },
        });
        return view(requests.get(id)!);
      },
      approveSharingRequest: async (_: unknown, args: { id: string; conditions?: string | null; validUntil?: string | null }, ctx: SubgraphContext) => {
        const r = find(args.id, ctx);
        if (ctx.caller.agency !== r.provider) throw forbidden(`only ${r.provider}, the provider, answers request ${r.id}`);
        check(r, 'request.approved');
        const validUntil = args.validUntil ? futureDate('validUntil', args.validUntil, now()) : r.validUntil;
        const conditions = args.conditions?.trim() || null;
        const grantIds = await fileGrants(r, validUntil, conditions);
        await record(ctx, { type: 'request.approved', id: r.id, conditions, grantIds });
        return view(requests.get(r.id)!);
      },
      refuseSharingRequest: async (_: unknown, args: { id: string; reasons: string }, ctx: SubgraphContext) => {
        const r = find(args.id, ctx);
        if (ctx.caller.agency !== r.provider) throw forbidden(`only ${r.provider}, the provider, answers request ${r.id}`);
        const reasons = written('reasons', args.reasons);
        check(r, 'request.refused');
        await record(ctx, { type: 'request.refused', id: r.id, reasons });
        return view(requests.get(r.id)!);
      },
      withdrawSharingRequest: async (_: unknown, args: { id: string }, ctx: SubgraphContext) => {
        const r = find(args.id, ctx);
        if (ctx.caller.agency !== r.consumer) throw forbidden(`only ${r.consumer}, who filed request ${r.id}, may withdraw it`);
        check(r, 'request.withdrawn');
        await record(ctx, { type: 'request.withdrawn', id: r.id });
        return view(requests.get(r.id)!);
      },
      escalateSharingRequest: async (_: unknown, args: { id: string; reasons: string }, ctx: SubgraphContext) => {
        const r = find(args.id, ctx);
        if (ctx.caller.agency !== r.consumer) throw forbidden(`only ${r.consumer}, who filed request ${r.id}, may escalate it`);
        const reasons = written('reasons', args.reasons);
        check(r, 'request.escalated');
        await record(ctx, { type: 'request.escalated', id: r.id, reasons });
        return view(requests.get(r.id)!);
      },
      decideEscalation: async (_: unknown, args: { id: string; approve: boolean; reasons: string; validUntil?: string | null }, ctx: SubgraphContext) => {
        if (ctx.caller.agency !== AUTHORITY || !ctx.caller.roles.includes('coordinator')) throw forbidden('only a coordinator of the authority (itd) decides escalated requests (R-22)');
        const r = find(args.id, ctx);
        const reasons = written('reasons', args.reasons);
        check(r, 'request.decided');
        const grantIds = args.approve ? await fileGrants(r, args.validUntil ? futureDate('validUntil', args.validUntil, now()) : r.validUntil, null) : [];
        await record(ctx, { type: 'request.decided', id: r.id, approve: args.approve, reasons, grantIds });
        return view(requests.get(r.id)!);
      },
      revokeGrant: async (_: unknown, args: { id: string; reasons: string }, ctx: SubgraphContext) => {
        const reasons = written('reasons', args.reasons);
        const grant = (await deps.grants.snapshot()).grants.get(args.id);
        if (grant === undefined) throw bad('id', `no grant ${args.id} is in force`);
        const provider = deps.datasets.get(grant.dataset)?.provider;
        const coordinator = ctx.caller.agency === AUTHORITY && ctx.caller.roles.includes('coordinator');
        if (ctx.caller.agency !== provider && !coordinator) throw forbidden(`only ${provider}, the provider, or a coordinator of the authority revokes grant ${args.id}`);
        await deps.grants.apply({ op: 'revoke-grant', id: args.id, reason: reasons });
        apply(requests, await deps.events.append({ type: 'grant.revoked', actor: { sub: ctx.caller.sub, agency: ctx.caller.agency }, data: { id: args.id, requestId: grant.requestId ?? null, reasons } }));
        return true;
      },
      registerConfidentialityAgreement: async (
        _: unknown,
        args: { parties: string[]; datasets: string[]; signedOn: string; validUntil: string; documentRef: string; filedWithSecrecyBureau?: boolean | null },
        ctx: SubgraphContext,
      ) => {
        const [a, b] = args.parties;
        if (args.parties.length !== 2 || a === undefined || b === undefined || a === b) throw bad('parties', 'an agreement is between exactly two different agencies');
        for (const p of args.parties) if (!Object.hasOwn(agencies, p)) throw bad('parties', `unknown agency "${p}"`);
        if (ctx.caller.agency !== a && ctx.caller.agency !== b && ctx.caller.agency !== AUTHORITY) throw forbidden('only a party to the agreement or the authority registers it');
        if (args.datasets.length === 0) throw bad('datasets', 'name the datasets the agreement covers');
        for (const d of args.datasets) if (!deps.datasets.has(d)) throw bad('datasets', `unknown dataset "${d}"`);
        const agreement = {
          id: `a-${Date.now().toString(36)}-${a}-${b}`,
          parties: [a, b] as [string, string],
          datasets: args.datasets,
          signedOn: isoDate('signedOn', args.signedOn),
          validUntil: isoDate('validUntil', args.validUntil),
          documentRef: written('documentRef', args.documentRef),
          filedWithSecrecyBureau: args.filedWithSecrecyBureau === true,
        };
        await deps.grants.apply({ op: 'agreement', agreement });
        await deps.events.append({ type: 'agreement.registered', actor: { sub: ctx.caller.sub, agency: ctx.caller.agency }, data: { agreement } });
        return agreement;
      },
      revokeConfidentialityAgreement: async (_: unknown, args: { id: string; reasons: string }, ctx: SubgraphContext) => {
        const reasons = written('reasons', args.reasons);
        const agreement = (await deps.grants.snapshot()).agreements.get(args.id);
        if (agreement === undefined) throw bad('id', `no confidentiality agreement ${args.id} is on file`);
        const coordinator = ctx.caller.agency === AUTHORITY && ctx.caller.roles.includes('coordinator');
        if (!agreement.parties.includes(ctx.caller.agency) && !coordinator) throw forbidden(`only ${agreement.parties.join(' or ')}, the parties, or a coordinator of the authority revokes agreement ${args.id}`);
        await deps.grants.apply({ op: 'revoke-agreement', id: args.id, reason: reasons });
        await deps.events.append({ type: 'agreement.revoked', actor: { sub: ctx.caller.sub, agency: ctx.caller.agency }, data: { id: args.id, reasons } });
        return true;
      },
    },
  };
}

function detailOf(e: ExchangeEvent): string | null {
  const d = e.data as { id?: string; reasons?: string; conditions?: string | null; grantIds?: string[]; validUntil?: string };
  if (e.type === 'grant.expired') return `grant ${d.id} ended at ${d.validUntil}`;
  if (e.type === 'grant.revoked') return `grant ${d.id}: ${d.reasons}`;
  if (typeof d.reasons === 'string') return d.reasons;
  if (Array.isArray(d.grantIds) && d.grantIds.length > 0) return `grants ${d.grantIds.join(', ')}${d.conditions ? `; conditions: ${d.conditions}` : ''}`;
  return null;
}
