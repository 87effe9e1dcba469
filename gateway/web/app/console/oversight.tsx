import type { GraphQLError, PageConfig, Session } from '../session.ts';
import { ActionForm, agencyName, day, Errors, field, L, Section, Table, time, useQuery } from '../ui.tsx';

/**
 * The authority's actions (R-22, R-39, R-40, R-37) and the agencies' side of them, each through
 * the exchange's own GraphQL mutations; the exchange checks roles and states and says what was wrong.
 */

type Done = (text: string) => void;

const written = (form: FormData, name: string, zh: string, en: string): string | null => (field(form, name) === '' ? `请填写${zh} · Write the ${en}.` : null);

interface Complaint {
  id: string;
  complainant: string;
  against: string;
  ground: string;
  description: string;
  status: string;
  filedAt: string;
  answerDueBy: string;
  decisionDueBy: string;
  answer: string | null;
}

export const COMPLAINT_FIELDS = 'id complainant against ground description status filedAt answerDueBy decisionDueBy answer';

/** The authority decides a complaint once answered (or once the time to answer ran out). */
export function DecideComplaints({ session, config, complaints, onDone }: { session: Session; config: PageConfig; complaints: readonly Complaint[]; onDone: Done }) {
  const open = complaints.filter((c) => c.status === 'FILED' || c.status === 'ANSWERED');
  if (open.length === 0) return null;
  return (
    <>
      <h3><L zh="待决定的投诉" en="Complaints to decide" /></h3>
      {open.map((c) => (
        <article key={c.id} className="request" aria-labelledby={`complaint-${c.id}`} data-complaint={c.id}>
          <h4 id={`complaint-${c.id}`}>
            <code>{c.id}</code> · {agencyName(config, c.complainant)} → {agencyName(config, c.against)} · {c.ground} · {c.status}
          </h4>
          <dl className="facts">
            <dt><L zh="事由" en="Complaint" /></dt>
            <dd>{c.description}</dd>
            <dt><L zh="被投诉方答复" en="Answer" /></dt>
            <dd>{c.answer ?? `— (${c.answerDueBy})`}</dd>
            <dt><L zh="决定期限" en="Decide by" /></dt>
            <dd>{c.decisionDueBy}</dd>
          </dl>
          <ActionForm
            session={session}
            label={`decide ${c.id}`}
            onDone={onDone}
            actions={[true, false].map((upheld) => ({
              zh: upheld ? '投诉成立' : '驳回投诉',
              en: upheld ? 'Uphold' : 'Dismiss',
              mutation: 'mutation DecideComplaint($id: ID!, $upheld: Boolean!, $reasons: String!) { decideComplaint(id: $id, upheld: $upheld, reasons: $reasons) { status } }',
              vars: (f) => written(f, 'reasons', '决定理由', 'reasons for the decision') ?? { id: c.id, upheld, reasons: field(f, 'reasons') },
              confirm: upheld ? { zh: `投诉成立将计入 ${c.against} 的年度考核，不可撤回。`, en: `An upheld complaint counts against ${c.against} in the annual evaluation and cannot be undone.` } : { zh: '驳回决定不可撤回。', en: 'A dismissal cannot be undone.' },
              danger: upheld,
            }))}
          >
            <label htmlFor={`reasons-${c.id}`}><L zh="决定理由（必填）" en="Reasons (required)" /></label>
            <textarea id={`reasons-${c.id}`} name="reasons" rows={2} />
          </ActionForm>
        </article>
      ))}
    </>
  );
}

/** The agency complained against answers in writing (its inbox). */
export function AnswerComplaints({ session, config, onDone }: { session: Session; config: PageConfig; onDone: Done }) {
  const complaints = useQuery<{ complaints: { items: Complaint[] } }>(session, `query AgainstUs($agency: String) { complaints(filter: { agency: $agency, state: "FILED" }, first: 100) { items { ${COMPLAINT_FIELDS} } } }`, { agency: session.agency });
  const mine = (complaints.data?.complaints.items ?? []).filter((c) => c.against === session.agency);
  const done = (text: string) => {
    complaints.reload();
    onDone(text);
  };
  return (
    <Section id="complaints-to-answer" zh="针对本机构的投诉" en="Complaints against your agency">
      <Errors errors={complaints.errors} />
      {mine.length === 0 && <p className="empty"><L zh="没有待答复的投诉" en="No complaint waiting for your answer" /></p>}
      {mine.map((c) => (
        <article key={c.id} className="request" aria-labelledby={`complaint-${c.id}`} data-complaint={c.id}>
          <h3 id={`complaint-${c.id}`}>
            <code>{c.id}</code> · {agencyName(config, c.complainant)} · {c.ground} · <L zh="答复期限" en="answer by" /> {c.answerDueBy}
          </h3>
          <p>{c.description}</p>
          <ActionForm
            session={session}
            label={`answer ${c.id}`}
            onDone={done}
            actions={[{ zh: '提交答复', en: 'Send the answer', mutation: 'mutation AnswerComplaint($id: ID!, $answer: String!) { answerComplaint(id: $id, answer: $answer) { status } }', vars: (f) => written(f, 'answer', '答复', 'answer') ?? { id: c.id, answer: field(f, 'answer') } }]}
          >
            <label htmlFor={`answer-${c.id}`}><L zh="书面答复（必填）" en="Written answer (required)" /></label>
            <textarea id={`answer-${c.id}`} name="answer" rows={2} />
          </ActionForm>
        </article>
      ))}
    </Section>
  );
}

/** A consumer escalates a refused or overdue request to the authority. */
export function EscalateRequests({ session, config, requests, onDone }: { session: Session; config: PageConfig; requests: readonly { id: string; provider: string; datasets: string[]; status: string; answer: string | null }[]; onDone: Done }) {
  const open = requests.filter((r) => r.status === 'REFUSED' || r.status === 'OVERDUE');
  if (open.length === 0) return null;
  return (
    <>
      <h3><L zh="可提请监督机构处理（被拒绝或逾期）" en="Refused or overdue: escalate to the authority" /></h3>
      {open.map((r) => (
        <article key={r.id} className="request" aria-labelledby={`escalate-${r.id}`} data-request={r.id}>
          <h4 id={`escalate-${r.id}`}>
            <code>{r.id}</code> · {agencyName(config, r.provider)} · {r.datasets.join(', ')} · {r.status}
          </h4>
          {r.answer !== null && <p><L zh="对方理由" en="Their reasons" />: {r.answer}</p>}
          <ActionForm
            session={session}
            label={`escalate ${r.id}`}
            onDone={onDone}
            actions={[{ zh: '提请处理', en: 'Escalate', mutation: 'mutation Escalate($id: ID!, $reasons: String!) { escalateSharingRequest(id: $id, reasons: $reasons) { status } }', vars: (f) => written(f, 'reasons', '理由', 'reasons') ?? { id: r.id, reasons: field(f, 'reasons') } }]}
          >
            <label htmlFor={`escalation-${r.id}`}><L zh="提请理由（必填）" en="Reasons (required)" /></label>
            <textarea id={`escalation-${r.id}`} name="reasons" rows={2} />
          </ActionForm>
        </article>
      ))}
    </>
  );
}

/** A coordinator approves an escalated request (filing the grants) or upholds the refusal. */
export function DecideEscalations({ session, config, requests, onDone }: { session: Session; config: PageConfig; requests: readonly { id: string; consumer: string; provider: string; datasets: string[]; status: string }[]; onDone: Done }) {
  const open = requests.filter((r) => r.status === 'ESCALATED');
  if (open.length === 0) return null;
  return (
    <>
      <h3><L zh="待决定的提请" en="Escalated requests to decide" /></h3>
      {open.map((r) => (
        <article key={r.id} className="request" aria-labelledby={`decide-${r.id}`} data-request={r.id}>
          <h4 id={`decide-${r.id}`}>
            <code>{r.id}</code> · {agencyName(config, r.consumer)} → {agencyName(config, r.provider)} · {r.datasets.join(', ')}
          </h4>
          <ActionForm
            session={session}
            label={`decide ${r.id}`}
            onDone={onDone}
            actions={[true, false].map((approve) => ({
              zh: approve ? '批准（推翻拒绝）' : '维持拒绝',
              en: approve ? 'Approve (overturn the refusal)' : 'Uphold the refusal',
              mutation: 'mutation DecideEscalation($id: ID!, $approve: Boolean!, $reasons: String!) { decideEscalation(id: $id, approve: $approve, reasons: $reasons) { status } }',
              vars: (f) => written(f, 'reasons', '决定理由', 'reasons') ?? { id: r.id, approve, reasons: field(f, 'reasons') },
              confirm: approve ? { zh: `批准后授权立即生效，并记为 ${r.provider} 的拒绝被推翻。`, en: `The grants take effect at once, and ${r.provider}'s refusal is recorded as overturned.` } : undefined,
            }))}
          >
            <label htmlFor={`decision-${r.id}`}><L zh="决定理由（必填）" en="Reasons (required)" /></label>
            <textarea id={`decision-${r.id}`} name="reasons" rows={2} />
          </ActionForm>
        </article>
      ))}
    </>
  );
}

export interface Finding {
  id: string;
  kind: string;
  agency: string;
  requestId: string | null;
  at: string;
  description: string;
}

/** What the ledger shows; a coordinator opens a case on chosen findings of one agency. */
export const FINDINGS_QUERY = 'query Findings { violationFindings { id kind agency requestId at description } }';

export function Findings({ session, config, findings, caseOf, onDone, canAct }: { session: Session; config: PageConfig; findings: { data: { violationFindings: Finding[] } | null; errors: readonly GraphQLError[] }; caseOf: ReadonlyMap<string, string>; onDone: Done; canAct: boolean }) {
  const all = findings.data?.violationFindings ?? [];
  const agencyOf = new Map(all.map((f) => [f.id, f.agency]));
  const columns = [<L key="k" zh="类型" en="Kind" />, <L key="a" zh="机构" en="Agency" />, <L key="d" zh="说明" en="Description" />, <L key="t" zh="时间" en="When" />, <L key="s" zh="案件" en="Case" />];
  const cells = (f: Finding) => [f.kind, agencyName(config, f.agency), f.description, day(f.at), caseOf.get(f.id) ?? '—'];
  if (!canAct) {
    // Read only (an auditor of the authority): the findings without the means to open a case.
    return (
      <Section id="findings" zh="违规线索（账本与访问日志所示）" en="Findings (from the ledger and the access log)">
        <Errors errors={findings.errors} />
        <Table head={columns} rows={all.map(cells)} />
      </Section>
    );
  }
  return (
    <Section id="findings" zh="违规线索（账本与访问日志所示）" en="Findings (from the ledger and the access log)">
      <Errors errors={findings.errors} />
      <ActionForm
        session={session}
        label="open a case"
        onDone={onDone}
        actions={[
          {
            zh: '立案',
            en: 'Open a case',
            mutation: 'mutation OpenCase($agency: String!, $findings: [ID!]!, $summary: String!) { openCase(agency: $agency, findings: $findings, summary: $summary) { id } }',
            vars: (f) => {
              const chosen = f.getAll('finding').map(String);
              if (chosen.length === 0) return '请选择至少一条线索 · Choose at least one finding.';
              const agencies = new Set(chosen.map((id) => agencyOf.get(id)));
              if (agencies.size > 1) return '一个案件只针对一个机构 · A case concerns one agency: choose findings of one agency.';
              return written(f, 'summary', '案情摘要', 'summary') ?? { agency: agencyOf.get(chosen[0]!), findings: chosen, summary: field(f, 'summary') };
            },
          },
        ]}
      >
        <Table
          head={[<L key="c" zh="选择" en="Choose" />, ...columns]}
          rows={all.map((f) => [<input key="c" type="checkbox" name="finding" value={f.id} aria-label={`${f.id} ${f.kind} ${f.agency}`} />, ...cells(f)])}
        />
        <label htmlFor="case-summary"><L zh="案情摘要（必填）" en="Summary (required)" /></label>
        <textarea id="case-summary" name="summary" rows={2} />
      </ActionForm>
    </Section>
  );
}

export interface Case {
  id: string;
  agency: string;
  findings: string[];
  summary: string;
  status: string;
  openedAt: string;
  orders: { correction: string; dueBy: string }[];
  notices: { notice: string; at: string }[];
  suspensions: { id: string; dataset: string; until: string; reason: string; liftedAt: string | null }[];
}

export const CASE_FIELDS = 'id agency findings summary status openedAt orders { correction dueBy } notices { notice at } suspensions { id dataset until reason liftedAt }';

const CASE_MUTATIONS = {
  order: 'mutation OrderCorrection($caseId: ID!, $correction: String!, $dueBy: String!) { orderCorrection(caseId: $caseId, correction: $correction, dueBy: $dueBy) { id } }',
  suspend: 'mutation Suspend($caseId: ID!, $dataset: String, $until: String!, $reason: String!) { suspendAccess(caseId: $caseId, dataset: $dataset, until: $until, reason: $reason) { id } }',
  lift: 'mutation Lift($id: ID!, $reasons: String!) { liftSuspension(id: $id, reasons: $reasons) }',
  criticize: 'mutation Criticize($caseId: ID!, $notice: String!) { issueCriticism(caseId: $caseId, notice: $notice) { id } }',
  close: 'mutation CloseCase($caseId: ID!, $reasons: String!) { closeCase(caseId: $caseId, reasons: $reasons) { id } }',
};

/** One open case with what a coordinator can do on it: order, suspend / lift, criticize, close. */
export function CaseActions({ session, config, k, onDone }: { session: Session; config: PageConfig; k: Case; onDone: Done }) {
  const caseId = k.id;
  return (
    <article className="request" aria-labelledby={`case-${k.id}`} data-case={k.id}>
      <h3 id={`case-${k.id}`}>
        <code>{k.id}</code> · {agencyName(config, k.agency)} · {k.status} · <L zh="立案" en="opened" /> {day(k.openedAt)}
      </h3>
      <dl className="facts">
        <dt><L zh="摘要" en="Summary" /></dt>
        <dd>{k.summary}</dd>
        <dt><L zh="线索" en="Findings" /></dt>
        <dd>{k.findings.join(', ')}</dd>
        <dt><L zh="整改令" en="Orders" /></dt>
        <dd>{k.orders.map((o) => `${o.correction}（${o.dueBy}）`).join('；') || '—'}</dd>
        <dt><L zh="通报批评" en="Notices" /></dt>
        <dd>{k.notices.map((n) => `${n.notice}（${day(n.at)}）`).join('；') || '—'}</dd>
      </dl>
      {k.suspensions.length > 0 && (
        <Table
          caption="暂停 suspensions"
          head={[<L key="i" zh="编号" en="Id" />, <L key="d" zh="数据集" en="Dataset" />, <L key="u" zh="截至" en="Until" />, <L key="s" zh="状态" en="State" />]}
          rows={k.suspensions.map((s) => [<code key="i">{s.id}</code>, s.dataset, time(s.until), s.liftedAt === null ? <strong key="s">暂停中 SUSPENDED</strong> : `已解除 lifted ${time(s.liftedAt)}`])}
        />
      )}
      {k.suspensions
        .filter((s) => s.liftedAt === null)
        .map((s) => (
          <ActionForm key={s.id} session={session} label={`lift ${s.id}`} onDone={onDone} actions={[{ zh: `解除暂停 ${s.id}`, en: `Lift ${s.id}`, mutation: CASE_MUTATIONS.lift, vars: (f) => written(f, 'reasons', '解除理由', 'reasons') ?? { id: s.id, reasons: field(f, 'reasons') } }]}>
            <label htmlFor={`lift-${s.id}`}><L zh={`解除 ${s.id} 的理由（必填）`} en={`Reasons to lift ${s.id} (required)`} /></label>
            <input id={`lift-${s.id}`} name="reasons" />
          </ActionForm>
        ))}
      <div className="actions">
        <ActionForm session={session} label={`order ${k.id}`} onDone={onDone} actions={[{ zh: '责令整改', en: 'Order correction', mutation: CASE_MUTATIONS.order, vars: (f) => written(f, 'correction', '整改要求', 'correction') ?? (field(f, 'dueBy') === '' ? '请选择整改期限 · Choose the date to correct by.' : { caseId, correction: field(f, 'correction'), dueBy: field(f, 'dueBy') }) }]}>
          <label htmlFor={`correction-${k.id}`}><L zh="整改要求" en="Correction" /></label>
          <textarea id={`correction-${k.id}`} name="correction" rows={2} />
          <label htmlFor={`due-${k.id}`}><L zh="整改期限" en="Correct by" /></label>
          <input id={`due-${k.id}`} name="dueBy" type="date" />
        </ActionForm>
        <ActionForm
          session={session}
          label={`suspend ${k.id}`}
          onDone={onDone}
          actions={[
            {
              zh: '暂停访问',
              en: 'Suspend access',
              danger: true,
              mutation: CASE_MUTATIONS.suspend,
              vars: (f) => written(f, 'reason', '暂停理由', 'reason') ?? (field(f, 'until') === '' ? '请选择暂停截止日期 · Choose the date the suspension ends.' : { caseId, dataset: field(f, 'dataset') || '*', until: field(f, 'until'), reason: field(f, 'reason') }),
              confirm: { zh: `${k.agency} 对所选数据的读取将立即被拒绝（SUSPENDED），直至截止日期或解除。`, en: `${k.agency}'s reads of the chosen data are denied at once (SUSPENDED) until that date or until lifted.` },
            },
          ]}
        >
          <label htmlFor={`suspend-dataset-${k.id}`}><L zh="数据集（* 为全部）" en="Dataset (* for all)" /></label>
          <input id={`suspend-dataset-${k.id}`} name="dataset" defaultValue="*" />
          <label htmlFor={`suspend-until-${k.id}`}><L zh="暂停至" en="Suspended until" /></label>
          <input id={`suspend-until-${k.id}`} name="until" type="date" />
          <label htmlFor={`suspend-reason-${k.id}`}><L zh="暂停理由" en="Reason" /></label>
          <input id={`suspend-reason-${k.id}`} name="reason" />
        </ActionForm>
        <ActionForm
          session={session}
          label={`criticize ${k.id}`}
          onDone={onDone}
          actions={[{ zh: '通报批评', en: 'Issue a notice of criticism', danger: true, mutation: CASE_MUTATIONS.criticize, vars: (f) => written(f, 'notice', '通报内容', 'notice') ?? { caseId, notice: field(f, 'notice') }, confirm: { zh: `通报批评将送达 ${k.agency} 并留档，不可撤回。`, en: `The notice reaches ${k.agency} and stays on record; it cannot be withdrawn.` } }]}
        >
          <label htmlFor={`notice-${k.id}`}><L zh="通报内容" en="Notice" /></label>
          <textarea id={`notice-${k.id}`} name="notice" rows={2} />
        </ActionForm>
        <ActionForm
          session={session}
          label={`close ${k.id}`}
          onDone={onDone}
          actions={[{ zh: '结案', en: 'Close the case', mutation: CASE_MUTATIONS.close, vars: (f) => written(f, 'reasons', '结案理由', 'reasons') ?? { caseId, reasons: field(f, 'reasons') }, confirm: { zh: '结案后不能再对本案采取措施。', en: 'Once closed, no further step can be taken on this case.' } }]}
        >
          <label htmlFor={`close-${k.id}`}><L zh="结案理由" en="Reasons for closing" /></label>
          <textarea id={`close-${k.id}`} name="reasons" rows={2} />
        </ActionForm>
      </div>
    </article>
  );
}

/** Publishes the year's evaluation, or a correction of the published version with a note. */
export function PublishEvaluation({ session, year, published, onDone }: { session: Session; year: number; published: { id: string } | null; onDone: Done }) {
  const correcting = published !== null;
  return (
    <ActionForm
      session={session}
      label={`publish ${year}`}
      onDone={onDone}
      actions={[
        {
          zh: correcting ? `发布 ${year} 年度考核更正版` : `发布 ${year} 年度考核`,
          en: correcting ? `Publish a correction of ${published.id}` : `Publish the ${year} evaluation`,
          danger: true,
          mutation: 'mutation Publish($year: Int!, $corrects: ID, $note: String) { publishEvaluation(year: $year, corrects: $corrects, note: $note) { id } }',
          vars: (f) => (correcting ? (written(f, 'note', '更正说明', 'note on the correction') ?? { year, corrects: published.id, note: field(f, 'note') }) : { year, note: field(f, 'note') || null }),
          confirm: { zh: '已发布的考核结果不再改变；如有错误只能发布更正版。', en: 'Published figures never change; a mistake can only be corrected by a new version.' },
        },
      ]}
    >
      <label htmlFor="evaluation-note"><L zh={correcting ? '更正说明（必填）' : '说明（可选）'} en={correcting ? 'Note on the correction (required)' : 'Note (optional)'} /></label>
      <input id="evaluation-note" name="note" />
    </ActionForm>
  );
}
