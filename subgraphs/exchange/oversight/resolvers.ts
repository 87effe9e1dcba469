import agencies from '../../../schema/agencies.json' with { type: 'json' };
import type { SubgraphContext } from '../../shared/context.ts';
import type { Actor, ComplaintGround, LedgerEvent } from '../../../ledger/events.ts';
import { ids } from '../../../ledger/events.ts';
import type { Ledger } from '../../../ledger/ledger.ts';
import { cstDate, workingDaysLeft } from '../workdays.ts';
import { evaluate, EVALUATION_METHOD } from './evaluation.ts';
import { byTime, disclosureFindings, findingsOfAll, type Finding } from './findings.ts';
import { inboxOf } from './inbox.ts';
import { agreementMatches, agreementState, grantMatches, grantState, requestMatches, type ListingFilter } from './listings.ts';
import { page } from './paging.ts';
import { bad, forbidden, isCoordinator, isoDate, requireCoordinator, seesAll, written } from './scope.ts';
import { applyOversight, emptyState, type Complaint, type Demand, type ViolationCase } from './state.ts';
import type { UsageDimension, UsageSource } from './usage.ts';
import type { UsageFollower } from './usage-follower.ts';

export interface OversightDeps {
  readonly ledger: Ledger;
  /** Dataset id → its provider, from the supergraph. */
  readonly providers: ReadonlyMap<string, string>;
  /** The workflow's own resolvers: a listing shows each request exactly as the workflow does. */
  readonly sharingRequest: (parent: unknown, args: { id: string }, ctx: SubgraphContext) => unknown;
  readonly sharingRequests: (parent: unknown, args: { role: 'CONSUMER' | 'PROVIDER'; status?: string | null }, ctx: SubgraphContext) => readonly { id: string }[];
  /** Where the usage statistics come from: the access log's running counts, or the archive. */
  readonly usage?: UsageSource;
  /** The access log followed in this process: the conduct it shows for the findings. */
  readonly accessLog?: Pick<UsageFollower, 'sync' | 'watch'>;
  readonly now?: () => Date;
}

const DIMENSIONS: readonly UsageDimension[] = ['PROVIDER', 'CONSUMER', 'DATASET', 'PURPOSE', 'QUARTER'];

interface PageArgs {
  readonly filter?: ListingFilter | null;
  readonly first?: number | null;
  readonly after?: string | null;
}

const GROUNDS: readonly ComplaintGround[] = ['REFUSED', 'LATE', 'MISUSE'];

function agency(argument: string, code: string): string {
  if (!Object.hasOwn(agencies, code)) throw bad(argument, `unknown agency "${code}"`);
  return code;
}

/**
 * The authority's oversight (docs/oversight.md): listings of requests, grants and agreements; each
 * agency's inbox; complaints; the demand register (Art. 12–13); violation findings and
 * cases. Every step is a ledger event; state is this module's own fold of the ledger.
 */
export async function oversight(deps: OversightDeps) {
  const now = deps.now ?? (() => new Date());
  const { ledger } = deps;
  const state = emptyState();
  const providerOf = (d: string): string | null => deps.providers.get(d) ?? null;
  const projection = ledger.project((e) => applyOversight(state, e, providerOf));
  await projection.sync();
  const actorOf = (ctx: SubgraphContext): Actor => ({ sub: ctx.caller.sub, agency: ctx.caller.agency });
  const decide = async (ctx: SubgraphContext, step: () => LedgerEvent) => ledger.decide(projection, step, actorOf(ctx));

  /** An agency outside the authority sees what concerns it; asking for another agency's is refused. */
  const scoped = (ctx: SubgraphContext, coordinate: string, f: ListingFilter | null | undefined): ListingFilter => {
    const filter = f ?? {};
    if (seesAll(ctx)) return filter;
    if (filter.agency && filter.agency !== ctx.caller.agency) {
      throw forbidden(coordinate, `${coordinate}: your agency (${ctx.caller.agency}) sees only what concerns it, not ${filter.agency}'s.`, 'Ask the authority (itd) for listings of other agencies.');
    }
    return { ...filter, agency: ctx.caller.agency };
  };
  const checkSpan = (f: ListingFilter): void => {
    isoDate('filter.since', f.since);
    isoDate('filter.until', f.until);
  };

  const complaintView = (c: Complaint) => ({
    ...c,
    status: c.decision !== null ? (c.decision.upheld ? 'UPHELD' : 'DISMISSED') : c.answer !== null ? 'ANSWERED' : 'FILED',
    answer: c.answer?.text ?? null,
    answeredAt: c.answer?.at ?? null,
    decisionReasons: c.decision?.reasons ?? null,
    decidedAt: c.decision?.at ?? null,
    answerWorkingDaysLeft: c.answer === null ? workingDaysLeft(now(), c.answerDueBy) : 0,
  });
  const demandView = (d: Demand) => ({
    ...d,
    status: d.outcome.kind,
    provider: d.outcome.kind === 'MATCHED' ? d.outcome.provider : null,
    datasets: d.outcome.kind === 'MATCHED' ? d.outcome.datasets : [],
    holder: d.outcome.kind === 'ASSIGNED' ? d.outcome.holder : null,
    note: d.outcome.kind === 'OPEN' ? null : d.outcome.note,
    decidedAt: d.outcome.kind === 'OPEN' ? null : d.outcome.at,
  });
  const caseView = (k: ViolationCase) => ({
    ...k,
    status: k.closed === null ? 'OPEN' : 'CLOSED',
    closedAt: k.closed?.at ?? null,
    closingReasons: k.closed?.reasons ?? null,
    suspensions: k.suspensions.flatMap((id) => {
      const s = state.suspensions.get(id);
      return s === undefined ? [] : [{ ...s, liftedAt: s.lifted?.at ?? null, liftReasons: s.lifted?.reasons ?? null }];
    }),
  });
  const complaintOf = (ctx: SubgraphContext, id: string): Complaint => {
    const c = state.complaints.get(id);
    if (c === undefined || !(seesAll(ctx) || ctx.caller.agency === c.complainant || ctx.caller.agency === c.against)) throw bad('id', `no complaint ${id} that your agency is party to`);
    return c;
  };
  const caseOf = (id: string): ViolationCase => {
    const k = state.cases.get(id);
    if (k === undefined) throw bad('caseId', `no violation case ${id}`);
    if (k.closed !== null) throw bad('caseId', `case ${id} is closed`);
    return k;
  };
  const demandOf = (id: string): Demand => {
    const d = state.demands.get(id);
    if (d === undefined) throw bad('id', `no demand ${id} in the register`);
    if (d.outcome.kind !== 'OPEN') throw bad('id', `demand ${id} is already ${d.outcome.kind}`);
    return d;
  };
  const futureDay = (argument: string, text: string): string => {
    const d = isoDate(argument, text)!;
    if (d.slice(0, 10) < cstDate(now())) throw bad(argument, `${argument} must not be in the past, got "${text}"`);
    return d;
  };
  /** Every finding now: from the ledger, and from the access log as far as it is counted. */
  const findings = async (): Promise<Finding[]> => {
    await projection.sync();
    if (deps.accessLog !== undefined) await deps.accessLog.sync();
    const watch = deps.accessLog?.watch;
    const fromLog = watch === undefined ? [] : watch.findings((id) => state.grants.get(id)?.grant);
    const disclosed = disclosureFindings(state, providerOf, (c, d) => watch?.reads(c, d) ?? { count: 0, records: [] });
    return byTime([...findingsOfAll(state.requests.values(), now()), ...disclosed, ...fromLog]);
  };

  return {
    close(): void {
      projection.stop();
    },
    Query: {
      /** The workflow's listing, widened: role ALL for the authority, filters and paging for everyone. */
      sharingRequests: async (
        parent: unknown,
        args: { role: 'CONSUMER' | 'PROVIDER' | 'ALL'; status?: string | null; agency?: string | null; dataset?: string | null; since?: string | null; until?: string | null; first?: number | null; after?: string | null },
        ctx: SubgraphContext,
      ) => {
        const f: ListingFilter = { agency: args.agency, dataset: args.dataset, state: args.status, since: args.since, until: args.until };
        checkSpan(f);
        await projection.sync();
        let list: readonly { id: string }[];
        if (args.role === 'ALL') {
          if (!seesAll(ctx)) throw forbidden('Query.sharingRequests', 'sharingRequests(role: ALL) is for coordinators and auditors of the authority (itd); list your own with role CONSUMER or PROVIDER.', 'Use role CONSUMER or PROVIDER.');
          list = [...state.requests.values()].filter((r) => requestMatches(r, f, now())).map((r) => deps.sharingRequest(parent, { id: r.id }, ctx) as { id: string });
        } else {
          const mine = deps.sharingRequests(parent, { role: args.role, status: args.status ?? null }, ctx);
          list = mine.filter((v) => {
            const r = state.requests.get(v.id);
            return r !== undefined && requestMatches(r, { ...f, state: null }, now());
          });
        }
        const from = args.after ? list.findIndex((v) => v.id === args.after) + 1 : 0;
        if (args.after && from === 0) throw bad('after', `after must be the id of a request in this listing, got "${args.after}"`);
        // Without `first` the listing is whole, as it always was.
        return args.first === null || args.first === undefined ? list.slice(from) : page(list.slice(from), args.first, null).items;
      },
      grants: async (_: unknown, args: PageArgs, ctx: SubgraphContext) => {
        const f = scoped(ctx, 'Query.grants', args.filter);
        checkSpan(f);
        await projection.sync();
        const t = now();
        const all = [...state.grants.values()].filter((g) => grantMatches(g, f, t)).sort((a, b) => a.seq - b.seq);
        const p = page(all, args.first, args.after);
        return {
          ...p,
          items: p.items.map((g) => ({ ...g.grant, provider: g.provider, state: grantState(g, t), issuedAt: g.issuedAt, revokedAt: g.revoked?.at ?? null, revocationReasons: g.revoked?.reasons ?? null })),
        };
      },
      agreements: async (_: unknown, args: PageArgs, ctx: SubgraphContext) => {
        const f = scoped(ctx, 'Query.agreements', args.filter);
        checkSpan(f);
        await projection.sync();
        const t = now();
        const all = [...state.agreements.values()].filter((a) => agreementMatches(a, f, t)).sort((a, b) => a.seq - b.seq);
        const p = page(all, args.first, args.after);
        return { ...p, items: p.items.map((a) => ({ ...a.agreement, state: agreementState(a, t), registeredAt: a.registeredAt, revokedAt: a.revoked?.at ?? null })) };
      },
      inbox: async (_: unknown, __: unknown, ctx: SubgraphContext) => {
        await projection.sync();
        const items = inboxOf(state, ctx.caller.agency, now());
        return { agency: ctx.caller.agency, items, dueSoon: items.filter((i) => i.dueSoon).length };
      },
      complaints: async (_: unknown, args: PageArgs, ctx: SubgraphContext) => {
        const f = scoped(ctx, 'Query.complaints', args.filter);
        await projection.sync();
        const all = [...state.complaints.values()]
          .filter((c) => !f.agency || c.complainant === f.agency || c.against === f.agency)
          .map(complaintView)
          .filter((c) => !f.state || c.status === f.state);
        return page(all, args.first, args.after);
      },
      complaint: async (_: unknown, args: { id: string }, ctx: SubgraphContext) => {
        await projection.sync();
        return complaintView(complaintOf(ctx, args.id));
      },
      demands: async (_: unknown, args: PageArgs, ctx: SubgraphContext) => {
        const f = scoped(ctx, 'Query.demands', args.filter);
        await projection.sync();
        const all = [...state.demands.values()]
          .filter((d) => !f.agency || d.agency === f.agency || (d.outcome.kind === 'ASSIGNED' && d.outcome.holder === f.agency) || (d.outcome.kind === 'MATCHED' && d.outcome.provider === f.agency))
          .filter((d) => !f.dataset || (d.outcome.kind === 'MATCHED' && d.outcome.datasets.includes(f.dataset)))
          .map(demandView)
          .filter((d) => !f.state || d.status === f.state);
        return page(all, args.first, args.after);
      },
      violationFindings: async (_: unknown, args: { agency?: string | null }, ctx: SubgraphContext) => {
        const f = scoped(ctx, 'Query.violationFindings', { agency: args.agency ?? null });
        return (await findings()).filter((x) => !f.agency || x.agency === f.agency);
      },
      usageStatistics: async (_: unknown, args: { from: string; to: string; groupBy: UsageDimension[] }, ctx: SubgraphContext) => {
        const from = isoDate('from', args.from)!.slice(0, 10);
        const to = isoDate('to', args.to)!.slice(0, 10);
        if (from > to) throw bad('to', `to (${to}) is before from (${from})`);
        for (const d of args.groupBy) if (!DIMENSIONS.includes(d)) throw bad('groupBy', `groupBy takes ${DIMENSIONS.join(', ')}`);
        if (deps.usage === undefined) return [];
        return deps.usage.rows({ from, to, groupBy: args.groupBy, agency: seesAll(ctx) ? null : ctx.caller.agency });
      },
      annualEvaluation: async (_: unknown, args: { year: number }, ctx: SubgraphContext) => {
        if (!Number.isInteger(args.year) || args.year < 2000 || args.year > 2100) throw bad('year', `year must be a year, got ${args.year}`);
        await projection.sync();
        const mine = (rows: readonly { agency: string }[]) => (seesAll(ctx) ? rows : rows.filter((r) => r.agency === ctx.caller.agency));
        const versions = [...state.evaluations.values()].filter((v) => v.year === args.year).map((v) => ({ ...v, rows: mine(v.rows) }));
        const current = versions.find((v) => v.correctedBy === null) ?? null;
        return { year: args.year, method: EVALUATION_METHOD, draft: mine(evaluate(state, deps.providers, args.year, now())), published: current, versions };
      },
      violationCases: async (_: unknown, args: PageArgs, ctx: SubgraphContext) => {
        const f = scoped(ctx, 'Query.violationCases', args.filter);
        await projection.sync();
        const all = [...state.cases.values()]
          .filter((k) => !f.agency || k.agency === f.agency)
          .map(caseView)
          .filter((k) => !f.state || k.status === f.state);
        return page(all, args.first, args.after);
      },
    },
    Mutation: {
      fileComplaint: async (_: unknown, args: { against: string; ground: ComplaintGround; description: string; requestId?: string | null }, ctx: SubgraphContext) => {
        const against = agency('against', args.against);
        if (against === ctx.caller.agency) throw bad('against', 'an agency does not complain against itself');
        if (!GROUNDS.includes(args.ground)) throw bad('ground', `ground must be one of ${GROUNDS.join(', ')}`);
        const description = written('description', args.description);
        const e = await decide(ctx, () => {
          const requestId = args.requestId ?? null;
          if (requestId !== null) {
            const r = state.requests.get(requestId);
            const parties = r === undefined ? [] : [r.consumer, r.provider];
            if (!parties.includes(ctx.caller.agency) || !parties.includes(against)) throw bad('requestId', `no sharing request ${requestId} between your agency and ${against}`);
          }
          return { type: 'complaint.filed', data: { complaint: { complainant: ctx.caller.agency, against, ground: args.ground, description, requestId, filedAt: now().toISOString() } } };
        });
        return complaintView(state.complaints.get(ids.complaint(e.seq))!);
      },
      answerComplaint: async (_: unknown, args: { id: string; answer: string }, ctx: SubgraphContext) => {
        const answer = written('answer', args.answer);
        await decide(ctx, () => {
          const c = complaintOf(ctx, args.id);
          if (c.against !== ctx.caller.agency) throw forbidden('Mutation.answerComplaint', `only ${c.against}, the agency complained against, answers complaint ${c.id}`, `Leave the answer to ${c.against}.`);
          if (c.answer !== null || c.decision !== null) throw bad('id', `complaint ${c.id} is already ${c.decision !== null ? 'decided' : 'answered'}`);
          return { type: 'complaint.answered', data: { id: c.id, answer } };
        });
        return complaintView(state.complaints.get(args.id)!);
      },
      decideComplaint: async (_: unknown, args: { id: string; upheld: boolean; reasons: string }, ctx: SubgraphContext) => {
        requireCoordinator(ctx, 'Mutation.decideComplaint');
        const reasons = written('reasons', args.reasons);
        await decide(ctx, () => {
          const c = complaintOf(ctx, args.id);
          if (c.decision !== null) throw bad('id', `complaint ${c.id} is already decided`);
          // The other party is heard first, unless its time to answer has run out.
          if (c.answer === null && workingDaysLeft(now(), c.answerDueBy) > 0) throw bad('id', `complaint ${c.id} awaits ${c.against}'s answer until ${c.answerDueBy}`);
          return { type: 'complaint.decided', data: { id: c.id, upheld: args.upheld, reasons } };
        });
        return complaintView(state.complaints.get(args.id)!);
      },
      recordDemand: async (_: unknown, args: { data: string; duty: string; purpose: string; legalBasis: string; frequency: string }, ctx: SubgraphContext) => {
        const demand = {
          agency: ctx.caller.agency,
          data: written('data', args.data),
          duty: written('duty', args.duty),
          purpose: written('purpose', args.purpose),
          legalBasis: written('legalBasis', args.legalBasis),
          frequency: written('frequency', args.frequency),
          recordedAt: now().toISOString(),
        };
        const e = await ledger.record({ type: 'demand.recorded', data: { demand } }, actorOf(ctx));
        return demandView(state.demands.get(ids.demand(e.seq))!);
      },
      matchDemand: async (_: unknown, args: { id: string; datasets: string[]; note?: string | null }, ctx: SubgraphContext) => {
        requireCoordinator(ctx, 'Mutation.matchDemand');
        if (args.datasets.length === 0) throw bad('datasets', 'name the catalogued datasets that meet the need');
        const providers = new Set<string>();
        for (const d of args.datasets) {
          const p = providerOf(d);
          if (p === null) throw bad('datasets', `"${d}" is not a catalogued dataset: assign the demand to the holding agency instead`);
          providers.add(p);
        }
        if (providers.size !== 1) throw bad('datasets', 'match one provider\'s datasets at a time: the agency files one sharing request per provider');
        const provider = [...providers][0]!;
        await decide(ctx, () => {
          demandOf(args.id);
          return { type: 'demand.matched', data: { id: args.id, provider, datasets: [...new Set(args.datasets)], note: args.note?.trim() ?? '' } };
        });
        return demandView(state.demands.get(args.id)!);
      },
      assignDemand: async (_: unknown, args: { id: string; holder: string; note: string }, ctx: SubgraphContext) => {
        requireCoordinator(ctx, 'Mutation.assignDemand');
        const holder = agency('holder', args.holder);
        const note = written('note', args.note);
        await decide(ctx, () => {
          const d = demandOf(args.id);
          if (d.agency === holder) throw bad('holder', `${holder} recorded the need itself: assign it to the agency that holds the data`);
          return { type: 'demand.assigned', data: { id: args.id, holder, note } };
        });
        return demandView(state.demands.get(args.id)!);
      },
      recordDisclosure: async (_: unknown, args: { dataset: string; recipient: string; description: string; disclosedOn: string; consumer?: string | null }, ctx: SubgraphContext) => {
        const provider = providerOf(args.dataset);
        if (provider === null) throw bad('dataset', `unknown dataset "${args.dataset}"`);
        const consumer = agency('consumer', args.consumer ?? ctx.caller.agency);
        // An agency records its own disclosures; the provider or the authority reports one it found.
        if (consumer !== ctx.caller.agency && ctx.caller.agency !== provider && !isCoordinator(ctx)) {
          throw forbidden('Mutation.recordDisclosure', `your agency (${ctx.caller.agency}) records its own disclosures, not ${consumer}'s; ${provider}, the provider, or the authority reports others.`, 'Tell the provider or the authority (itd).');
        }
        if (consumer === provider) throw bad('consumer', `${consumer} provides ${args.dataset}: passing on its own data needs no consent`);
        const disclosedOn = isoDate('disclosedOn', args.disclosedOn)!.slice(0, 10);
        if (disclosedOn > cstDate(now())) throw bad('disclosedOn', `disclosedOn must not be in the future, got "${args.disclosedOn}"`);
        const disclosure = { consumer, dataset: args.dataset, recipient: written('recipient', args.recipient), description: written('description', args.description), disclosedOn };
        const e = await ledger.record({ type: 'disclosure.recorded', data: { disclosure } }, actorOf(ctx));
        return state.disclosures.get(ids.disclosure(e.seq))!;
      },
      giveConsent: async (_: unknown, args: { consumer: string; dataset: string; recipient: string; note: string }, ctx: SubgraphContext) => {
        const provider = providerOf(args.dataset);
        if (provider === null) throw bad('dataset', `unknown dataset "${args.dataset}"`);
        if (ctx.caller.agency !== provider) throw forbidden('Mutation.giveConsent', `only ${provider}, the provider of ${args.dataset}, consents to passing it on.`, `Ask ${provider} for its consent.`);
        const consent = { provider, consumer: agency('consumer', args.consumer), dataset: args.dataset, recipient: written('recipient', args.recipient), note: written('note', args.note) };
        const e = await ledger.record({ type: 'consent.given', data: { consent } }, actorOf(ctx));
        return state.consents.get(ids.consent(e.seq))!;
      },
      openCase: async (_: unknown, args: { agency: string; findings: string[]; summary: string }, ctx: SubgraphContext) => {
        requireCoordinator(ctx, 'Mutation.openCase');
        const offender = agency('agency', args.agency);
        const summary = written('summary', args.summary);
        if (args.findings.length === 0) throw bad('findings', 'a case rests on at least one finding (see violationFindings)');
        const known = new Map((await findings()).map((x) => [x.id, x]));
        const e = await decide(ctx, () => {
          const chosen = args.findings.map((id) => {
            const x = known.get(id);
            if (x === undefined) throw bad('findings', `no finding ${id} (see violationFindings)`);
            if (x.agency !== offender) throw bad('findings', `finding ${id} concerns ${x.agency}, not ${offender}`);
            return x;
          });
          const evidence = [...new Set(chosen.flatMap((x) => x.evidence))].sort((a, b) => a - b);
          const records = chosen.flatMap((x) => x.records);
          return { type: 'case.opened', data: { agency: offender, findings: chosen.map((x) => x.id), evidence, ...(records.length > 0 ? { records } : {}), summary } };
        });
        return caseView(state.cases.get(ids.violationCase(e.seq))!);
      },
      orderCorrection: async (_: unknown, args: { caseId: string; correction: string; dueBy: string }, ctx: SubgraphContext) => {
        requireCoordinator(ctx, 'Mutation.orderCorrection');
        const correction = written('correction', args.correction);
        const dueBy = futureDay('dueBy', args.dueBy).slice(0, 10);
        await decide(ctx, () => ({ type: 'case.ordered', data: { id: caseOf(args.caseId).id, correction, dueBy } }));
        return caseView(state.cases.get(args.caseId)!);
      },
      suspendAccess: async (_: unknown, args: { caseId: string; dataset?: string | null; until: string; reason: string }, ctx: SubgraphContext) => {
        requireCoordinator(ctx, 'Mutation.suspendAccess');
        const reason = written('reason', args.reason);
        const dataset = args.dataset ?? '*';
        if (dataset !== '*' && providerOf(dataset) === null) throw bad('dataset', `unknown dataset "${dataset}"`);
        const until = isoDate('until', args.until)!;
        const from = now().toISOString();
        if (Date.parse(until) <= Date.parse(from)) throw bad('until', `until must be in the future, got "${args.until}"`);
        await decide(ctx, () => {
          const k = caseOf(args.caseId);
          return { type: 'suspension.imposed', data: { suspension: { agency: k.agency, dataset, from, until: new Date(until).toISOString(), reason: `case ${k.id}: ${reason}` }, caseId: k.id } };
        });
        return caseView(state.cases.get(args.caseId)!);
      },
      liftSuspension: async (_: unknown, args: { id: string; reasons: string }, ctx: SubgraphContext) => {
        requireCoordinator(ctx, 'Mutation.liftSuspension');
        const reasons = written('reasons', args.reasons);
        await decide(ctx, () => {
          const s = state.suspensions.get(args.id);
          if (s === undefined || s.lifted !== null) throw bad('id', `no suspension ${args.id} is in force`);
          return { type: 'suspension.lifted', data: { id: args.id, reasons } };
        });
        return true;
      },
      issueCriticism: async (_: unknown, args: { caseId: string; notice: string }, ctx: SubgraphContext) => {
        requireCoordinator(ctx, 'Mutation.issueCriticism');
        const notice = written('notice', args.notice);
        await decide(ctx, () => ({ type: 'case.criticized', data: { id: caseOf(args.caseId).id, notice } }));
        return caseView(state.cases.get(args.caseId)!);
      },
      publishEvaluation: async (_: unknown, args: { year: number; corrects?: string | null; note?: string | null }, ctx: SubgraphContext) => {
        requireCoordinator(ctx, 'Mutation.publishEvaluation');
        const e = await decide(ctx, () => {
          const current = [...state.evaluations.values()].find((v) => v.year === args.year && v.correctedBy === null);
          const corrects = args.corrects ?? null;
          // Published figures never change: a correction is a new version naming the one it replaces.
          if (current !== undefined && corrects !== current.id) throw bad('corrects', `the ${args.year} evaluation is published as ${current.id}; publish a correction with corrects: "${current.id}" and a note`);
          if (current === undefined && corrects !== null) throw bad('corrects', `no published ${args.year} evaluation ${corrects} to correct`);
          const note = corrects === null ? (args.note?.trim() ?? '') : written('note', args.note);
          return { type: 'evaluation.published', data: { year: args.year, method: EVALUATION_METHOD, rows: evaluate(state, deps.providers, args.year, now()), corrects, note } };
        });
        return state.evaluations.get(ids.evaluation(args.year, e.seq))!;
      },
      closeCase: async (_: unknown, args: { caseId: string; reasons: string }, ctx: SubgraphContext) => {
        requireCoordinator(ctx, 'Mutation.closeCase');
        const reasons = written('reasons', args.reasons);
        await decide(ctx, () => ({ type: 'case.closed', data: { id: caseOf(args.caseId).id, reasons } }));
        return caseView(state.cases.get(args.caseId)!);
      },
    },
  };
}
