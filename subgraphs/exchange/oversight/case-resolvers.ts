import type { SubgraphContext } from '../../kit/context.ts';
import { ids } from '../../../ledger/events.ts';
import { cstDate } from '../workdays.ts';
import { type OversightCore, type PageArgs } from './core.ts';
import { byTime, demandFindings, disclosureFindings, findingsOfAll, type Finding } from './findings.ts';
import { page } from './paging.ts';
import { bad, isoDate, requireCoordinator, written } from './scope.ts';
import type { ViolationCase } from './state.ts';
import { oversightViews } from './views.ts';

/** Violation findings and cases: cases opened on findings, corrections ordered, access suspended, criticism issued. */
export function caseResolvers(core: OversightCore) {
  const { deps, state, projection, now, providerOf, decide, scoped } = core;
  const { caseView } = oversightViews(core);
  const caseOf = (id: string): ViolationCase => {
    const k = state.cases.get(id);
    if (k === undefined) throw bad('caseId', `no violation case ${id}`);
    if (k.closed !== null) throw bad('caseId', `case ${id} is closed`);
    return k;
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
    return byTime([...findingsOfAll(state.requests.values(), now()), ...demandFindings(state.demands.values(), now()), ...disclosed, ...fromLog]);
  };

  return {
    Query: {
      violationFindings: async (_: unknown, args: { agency?: string | null }, ctx: SubgraphContext) => {
        const f = scoped(ctx, 'Query.violationFindings', { agency: args.agency ?? null });
        return (await findings()).filter((x) => !f.agency || x.agency === f.agency);
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
      openCase: async (_: unknown, args: { agency: string; findings: string[]; summary: string }, ctx: SubgraphContext) => {
        requireCoordinator(ctx, 'Mutation.openCase');
        const offender = core.agency('agency', args.agency);
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
        if (dataset !== '*' && !deps.catalog.catalogued(dataset)) throw bad('dataset', `unknown dataset "${dataset}"`);
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
      closeCase: async (_: unknown, args: { caseId: string; reasons: string }, ctx: SubgraphContext) => {
        requireCoordinator(ctx, 'Mutation.closeCase');
        const reasons = written('reasons', args.reasons);
        await decide(ctx, () => ({ type: 'case.closed', data: { id: caseOf(args.caseId).id, reasons } }));
        return caseView(state.cases.get(args.caseId)!);
      },
    },
  };
}
