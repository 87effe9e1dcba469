import { useState } from 'react';
import type { PageConfig, Session } from '../session.ts';
import { agencyName, BarChart, day, Errors, L, Section, Table, time, useNotice, useQuery } from '../ui.tsx';
import { isAuditor, isCoordinator } from './access.ts';
import { CASE_FIELDS, CaseActions, COMPLAINT_FIELDS, DecideComplaints, DecideEscalations, Findings, FINDINGS_QUERY, PublishEvaluation, type Case, type Finding } from './oversight.tsx';

const STATUSES = ['PENDING', 'OVERDUE', 'APPROVED', 'REFUSED', 'WITHDRAWN', 'ESCALATED', 'APPROVED_ON_ESCALATION', 'UPHELD'] as const;
const DIMENSIONS = [
  { dim: 'QUARTER', key: 'quarter', zh: '按季度', en: 'By quarter' },
  { dim: 'PROVIDER', key: 'provider', zh: '按提供方', en: 'By provider' },
  { dim: 'CONSUMER', key: 'consumer', zh: '按使用方', en: 'By consumer' },
  { dim: 'DATASET', key: 'dataset', zh: '按数据集', en: 'By dataset' },
] as const;

type UsageRow = { provider: string | null; consumer: string | null; dataset: string | null; quarter: string | null; allowed: number; denied: number };

/** Today in China Standard Time: the statistics count days there, whatever the browser's zone. */
function today(): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
}

export function AuthorityPage({ session, config }: { session: Session; config: PageConfig }) {
  const [status, setStatus] = useState('');
  const year = Number(today().slice(0, 4));
  const [from, setFrom] = useState(`${year}-01-01`);
  const [to, setTo] = useState(today());
  const [range, setRange] = useState({ from, to });
  const requests = useQuery<{ sharingRequests: { id: string; consumer: string; provider: string; datasets: string[]; status: string; receivedAt: string; dueBy: string; workingDaysLeft: number; timeliness: string }[] }>(
    session,
    'query AllRequests($status: RequestStatus) { sharingRequests(role: ALL, status: $status, first: 500) { id consumer provider datasets status receivedAt dueBy workingDaysLeft timeliness } }',
    status === '' ? {} : { status },
  );
  const overdue = useQuery<{ overdueDatasets: { id: string; name: string; nameEn: string; provider: string; frequency: string; lastUpdate: string | null; freshness: string }[] }>(
    session,
    'query Overdue { overdueDatasets { id name nameEn provider frequency lastUpdate freshness } }',
  );
  const usage = useQuery<Record<string, UsageRow[]>>(
    session,
    `query Usage($from: String!, $to: String!) { ${DIMENSIONS.map((d) => `${d.key}: usageStatistics(from: $from, to: $to, groupBy: [${d.dim}]) { ${d.key} allowed denied }`).join(' ')} }`,
    range,
  );
  const evaluation = useQuery<{ annualEvaluation: { year: number; draft: { agency: string; requestsReceived: number; answeredOnTime: number; answeredLate: number; missed: number; refusals: number; complaintsUpheld: number; violationCases: number; datasetsOverdue: number | null; score: number; result: string }[]; published: { id: string; publishedAt: string } | null } }>(
    session,
    'query Evaluation($year: Int!) { annualEvaluation(year: $year) { year draft { agency requestsReceived answeredOnTime answeredLate missed refusals complaintsUpheld violationCases datasetsOverdue score result } published { id publishedAt } } }',
    { year },
  );
  const complaints = useQuery<{ complaints: { items: { id: string; complainant: string; against: string; ground: string; description: string; status: string; filedAt: string; answerDueBy: string; decisionDueBy: string; answer: string | null }[] } }>(
    session,
    `query Complaints { complaints(first: 200) { items { ${COMPLAINT_FIELDS} } } }`,
  );
  const cases = useQuery<{ violationCases: { items: Case[] } }>(session, `query Cases { violationCases(first: 200) { items { ${CASE_FIELDS} } } }`);
  const findings = useQuery<{ violationFindings: Finding[] }>(session, FINDINGS_QUERY);
  const { notice, show } = useNotice();
  const done = (text: string) => {
    for (const q of [requests, evaluation, complaints, cases, findings]) q.reload();
    show(text);
  };
  const caseOf = new Map((cases.data?.violationCases.items ?? []).flatMap((k) => k.findings.map((f) => [f, k.id] as const)));
  // The policy history is in the access-log dataset, reserved to auditors: anyone else would only be refused.
  const auditor = isAuditor(session);
  // The authority's acts are its coordinators'; an auditor of the authority reads, and gets no buttons.
  const coordinator = isCoordinator(session);
  const history = useQuery<{ policyHistory: { at: string; origin: string; instance: string; added: string[]; removed: string[]; hash: string }[] }>(session, auditor ? 'query PolicyHistory { policyHistory(first: 30) { at origin instance added removed hash } }' : null);
  return (
    <>
      {notice}
      <Section id="requests" zh="共享申请（按状态）" en="Sharing requests by state">
        <div className="row">
          <label htmlFor="status-filter"><L zh="状态" en="State" /></label>
          <select id="status-filter" value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">全部 all</option>
            {STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </div>
        <Errors errors={requests.errors} />
        <Table
          head={[<L key="i" zh="编号" en="Id" />, <L key="c" zh="申请方" en="Consumer" />, <L key="p" zh="提供方" en="Provider" />, <L key="d" zh="数据集" en="Datasets" />, <L key="s" zh="状态" en="State" />, <L key="b" zh="答复期限" en="Due by" />, <L key="t" zh="时效" en="Timeliness" />]}
          rows={(requests.data?.sharingRequests ?? []).map((r) => [<code key="i">{r.id}</code>, r.consumer, r.provider, r.datasets.join(', '), r.status, `${r.dueBy}（${r.workingDaysLeft}）`, r.timeliness])}
        />
        {coordinator && <DecideEscalations session={session} config={config} requests={requests.data?.sharingRequests ?? []} onDone={done} />}
      </Section>
      <Section id="overdue" zh="逾期未更新的数据集" en="Overdue datasets">
        <Errors errors={overdue.errors} />
        <Table
          head={[<L key="d" zh="数据集" en="Dataset" />, <L key="p" zh="提供方" en="Provider" />, <L key="f" zh="更新周期" en="Frequency" />, <L key="l" zh="最近更新" en="Last update" />, <L key="s" zh="时效" en="Freshness" />]}
          rows={(overdue.data?.overdueDatasets ?? []).map((d) => [`${d.name} · ${d.nameEn} (${d.id})`, agencyName(config, d.provider), d.frequency, day(d.lastUpdate), d.freshness])}
        />
      </Section>
      <Section id="usage" zh="使用统计" en="Usage statistics">
        <form className="row" onSubmit={(e) => { e.preventDefault(); setRange({ from, to }); }}>
          <label htmlFor="usage-from"><L zh="自" en="From" /></label>
          <input id="usage-from" type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
          <label htmlFor="usage-to"><L zh="至" en="To" /></label>
          <input id="usage-to" type="date" value={to} onChange={(e) => setTo(e.target.value)} />
          <button type="submit"><L zh="更新" en="Update" /></button>
        </form>
        <Errors errors={usage.errors} />
        <div className="charts">
          {DIMENSIONS.map((d) => (
            <BarChart key={d.key} title={`${d.zh} ${d.en}`} rows={(usage.data?.[d.key] ?? []).filter((r) => r.allowed + r.denied > 0).map((r) => ({ label: String(r[d.key] ?? '—'), allowed: r.allowed, denied: r.denied }))} />
          ))}
        </div>
      </Section>
      <Section id="evaluation" zh={`${year} 年度考核`} en={`Annual evaluation ${year}`}>
        <Errors errors={evaluation.errors} />
        {evaluation.data !== null && (
          <p>{evaluation.data.annualEvaluation.published === null ? <L zh="尚未发布（草稿，按账本实时计算）" en="Not yet published (draft, live from the ledger)" /> : <>已发布 published {time(evaluation.data.annualEvaluation.published.publishedAt)}</>}</p>
        )}
        <Table
          head={[<L key="a" zh="机构" en="Agency" />, <L key="r" zh="收到申请" en="Received" />, <L key="o" zh="按时" en="On time" />, <L key="l" zh="逾期答复" en="Late" />, <L key="m" zh="未答复" en="Missed" />, <L key="f" zh="拒绝" en="Refusals" />, <L key="c" zh="投诉成立" en="Complaints upheld" />, <L key="v" zh="违规案件" en="Cases" />, <L key="d" zh="逾期数据集" en="Datasets overdue" />, <L key="s" zh="得分" en="Score" />, <L key="x" zh="结果" en="Result" />]}
          rows={(evaluation.data?.annualEvaluation.draft ?? []).map((r) => [agencyName(config, r.agency), r.requestsReceived, r.answeredOnTime, r.answeredLate, r.missed, r.refusals, r.complaintsUpheld, r.violationCases, r.datasetsOverdue ?? '—', r.score, r.result])}
        />
        {coordinator && evaluation.data !== null && <PublishEvaluation session={session} year={year} published={evaluation.data.annualEvaluation.published} onDone={done} />}
      </Section>
      <Section id="complaints" zh="投诉" en="Complaints">
        <Errors errors={complaints.errors} />
        <Table
          head={[<L key="i" zh="编号" en="Id" />, <L key="c" zh="投诉方" en="Complainant" />, <L key="a" zh="被投诉方" en="Against" />, <L key="g" zh="事由" en="Ground" />, <L key="s" zh="状态" en="Status" />, <L key="d" zh="答复 / 决定期限" en="Answer / decision due" />]}
          rows={(complaints.data?.complaints.items ?? []).map((c) => [<code key="i">{c.id}</code>, c.complainant, c.against, c.ground, c.status, `${c.answerDueBy} / ${c.decisionDueBy}`])}
        />
        {coordinator && <DecideComplaints session={session} config={config} complaints={complaints.data?.complaints.items ?? []} onDone={done} />}
      </Section>
      <Findings session={session} config={config} findings={findings} caseOf={caseOf} onDone={done} canAct={coordinator} />
      <Section id="cases" zh="违规案件" en="Violation cases">
        <Errors errors={cases.errors} />
        <Table
          head={[<L key="i" zh="编号" en="Id" />, <L key="a" zh="机构" en="Agency" />, <L key="s" zh="摘要" en="Summary" />, <L key="t" zh="状态" en="Status" />, <L key="o" zh="立案" en="Opened" />, <L key="r" zh="整改期限 / 暂停" en="Orders / suspensions" />]}
          rows={(cases.data?.violationCases.items ?? []).map((c) => [<code key="i">{c.id}</code>, c.agency, c.summary, c.status, day(c.openedAt), [...c.orders.map((o) => `整改 ${o.dueBy}`), ...c.suspensions.map((s) => `暂停 ${s.dataset} → ${day(s.until)}${s.liftedAt === null ? '' : '（已解除 lifted）'}`)].join('；') || '—'])}
        />
        {coordinator && (cases.data?.violationCases.items ?? []).filter((k) => k.status === 'OPEN').map((k) => <CaseActions key={k.id} session={session} config={config} k={k} onDone={done} />)}
      </Section>
      {auditor && <Section id="policy-history" zh="策略变更历史" en="Policy history">
        <Errors errors={history.errors} />
        <Table
          head={[<L key="t" zh="时间" en="When" />, <L key="o" zh="来源" en="Origin" />, <L key="i" zh="网关实例" en="Instance" />, <L key="c" zh="变更" en="Changes" />]}
          rows={(history.data?.policyHistory ?? []).map((h) => [time(h.at), h.origin, h.instance, <span key="c" className="lines">{[...h.added.map((l) => `+ ${l}`), ...h.removed.map((l) => `− ${l}`)].slice(0, 6).join('\n') || `${h.hash.slice(0, 12)}`}</span>])}
        />
      </Section>}
    </>
  );
}
