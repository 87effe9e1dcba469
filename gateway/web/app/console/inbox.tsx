import { useState } from 'react';
import { gql, type GraphQLError, type PageConfig, type Session } from '../session.ts';
import { agencyName, day, Errors, L, purposeName, Section, Table, useNotice, useQuery } from '../ui.tsx';
import { AnswerComplaints } from './oversight.tsx';

interface Request {
  id: string;
  consumer: string;
  datasets: string[];
  purposes: string[];
  legalBasis: string;
  justification: string;
  validUntil: string;
  status: string;
  receivedAt: string;
  dueBy: string;
  workingDaysLeft: number;
  answer: string | null;
}

const OPEN = new Set(['PENDING', 'OVERDUE']);

export function InboxPage({ session, config }: { session: Session; config: PageConfig }) {
  const inbox = useQuery<{ inbox: { dueSoon: number; items: { kind: string; ref: string; summary: string; from: string | null; at: string; dueBy: string | null; workingDaysLeft: number | null; dueSoon: boolean; overdue: boolean }[] } }>(
    session,
    'query Inbox { inbox { dueSoon items { kind ref summary from at dueBy workingDaysLeft dueSoon overdue } } }',
  );
  const requests = useQuery<{ sharingRequests: Request[] }>(session, 'query ToAnswer { sharingRequests(role: PROVIDER) { id consumer datasets purposes legalBasis justification validUntil status receivedAt dueBy workingDaysLeft answer } }');
  const agreements = useQuery<{ agreementsAwaitingCountersignature: { id: string; parties: string[]; datasets: string[]; documentRef: string; validUntil: string; proposedAt: string }[] }>(
    session,
    'query Awaiting { agreementsAwaitingCountersignature { id parties datasets documentRef validUntil proposedAt } }',
  );
  const { notice, show } = useNotice();
  const reload = (text: string) => {
    inbox.reload();
    requests.reload();
    agreements.reload();
    show(text);
  };
  const open = (requests.data?.sharingRequests ?? []).filter((r) => OPEN.has(r.status));
  const answered = (requests.data?.sharingRequests ?? []).filter((r) => !OPEN.has(r.status));
  return (
    <>
      {notice}
      <Section id="inbox" zh="待办事项" en="Inbox">
        <Errors errors={inbox.errors} />
        {inbox.data !== null && (
          <p>
            <L zh="三个工作日内到期或已逾期" en="Due within 3 working days or overdue" />: <strong>{inbox.data.inbox.dueSoon}</strong>
          </p>
        )}
        <Table
          head={[<L key="k" zh="类型" en="Kind" />, <L key="s" zh="摘要" en="Summary" />, <L key="f" zh="相关机构" en="From" />, <L key="d" zh="期限" en="Due by" />]}
          rows={(inbox.data?.inbox.items ?? []).map((i) => [i.kind, `${i.ref} · ${i.summary}`, agencyName(config, i.from), i.dueBy === null ? '—' : `${i.dueBy}${i.overdue ? ' 已逾期 overdue' : i.dueSoon ? ' 即将到期 due soon' : ''}`])}
        />
      </Section>
      <Section id="to-answer" zh="待答复的共享申请" en="Sharing requests to answer">
        <Errors errors={requests.errors} />
        {open.length === 0 && <p className="empty"><L zh="没有待答复的申请" en="No request waiting for an answer" /></p>}
        {open.map((r) => <AnswerRequest key={r.id} request={r} session={session} config={config} onDone={reload} />)}
        <h3><L zh="已答复" en="Answered" /></h3>
        <Table
          head={[<L key="i" zh="编号" en="Id" />, <L key="c" zh="申请方" en="Consumer" />, <L key="d" zh="数据集" en="Datasets" />, <L key="s" zh="状态" en="Status" />, <L key="a" zh="答复" en="Answer" />]}
          rows={answered.map((r) => [<code key="i">{r.id}</code>, agencyName(config, r.consumer), r.datasets.join(', '), r.status, r.answer ?? '—'])}
        />
      </Section>
      <Section id="countersign" zh="待会签的保密协议" en="Agreements awaiting your countersignature">
        <Errors errors={agreements.errors} />
        <CountersignList session={session} items={agreements.data?.agreementsAwaitingCountersignature ?? []} onDone={reload} />
      </Section>
      <AnswerComplaints session={session} config={config} onDone={reload} />
    </>
  );
}

function AnswerRequest({ request: r, session, config, onDone }: { request: Request; session: Session; config: PageConfig; onDone: (text: string) => void }) {
  const [conditions, setConditions] = useState('');
  const [reasons, setReasons] = useState('');
  const [errors, setErrors] = useState<readonly GraphQLError[]>([]);
  const run = (query: string, variables: Record<string, unknown>, what: string) =>
    void gql(session, query, variables).then((res) => {
      setErrors(res.errors);
      if (res.errors.length === 0) onDone(`${r.id}: ${what}`);
    });
  return (
    <article className="request" aria-labelledby={`req-${r.id}`} data-request={r.id}>
      <h3 id={`req-${r.id}`}>
        <code>{r.id}</code> · {agencyName(config, r.consumer)} · {r.status}
      </h3>
      <dl className="facts">
        <dt><L zh="数据集" en="Datasets" /></dt>
        <dd>{r.datasets.join(', ')}</dd>
        <dt><L zh="用途" en="Purposes" /></dt>
        <dd>{r.purposes.map((p) => purposeName(config, p)).join('；')}</dd>
        <dt><L zh="法律依据" en="Legal basis" /></dt>
        <dd>{r.legalBasis}</dd>
        <dt><L zh="理由" en="Justification" /></dt>
        <dd>{r.justification}</dd>
        <dt><L zh="收到 / 答复期限" en="Received / due by" /></dt>
        <dd>{day(r.receivedAt)} / {r.dueBy}（{r.workingDaysLeft} <L zh="个工作日" en="working days" />）</dd>
      </dl>
      <div className="answer-forms">
        <form onSubmit={(e) => { e.preventDefault(); run('mutation Approve($id: ID!, $conditions: String) { approveSharingRequest(id: $id, conditions: $conditions) { status } }', { id: r.id, conditions: conditions === '' ? null : conditions }, '已批准 Approved'); }}>
          <label htmlFor={`conditions-${r.id}`}><L zh="批准条件（可选）" en="Conditions (optional)" /></label>
          <input id={`conditions-${r.id}`} value={conditions} onChange={(e) => setConditions(e.target.value)} />
          <button type="submit"><L zh="批准" en="Approve" /></button>
        </form>
        <form onSubmit={(e) => { e.preventDefault(); run('mutation Refuse($id: ID!, $reasons: String!) { refuseSharingRequest(id: $id, reasons: $reasons) { status } }', { id: r.id, reasons }, '已拒绝 Refused'); }}>
          <label htmlFor={`reasons-${r.id}`}><L zh="拒绝理由（必填）" en="Reasons for refusing (required)" /></label>
          <textarea id={`reasons-${r.id}`} required rows={2} value={reasons} onChange={(e) => setReasons(e.target.value)} />
          <button type="submit" className="danger"><L zh="拒绝" en="Refuse" /></button>
        </form>
      </div>
      <Errors errors={errors} />
    </article>
  );
}

function CountersignList({ session, items, onDone }: { session: Session; items: readonly { id: string; parties: string[]; datasets: string[]; documentRef: string; validUntil: string }[]; onDone: (text: string) => void }) {
  const [errors, setErrors] = useState<readonly GraphQLError[]>([]);
  return (
    <>
      <Table
        head={[<L key="i" zh="编号" en="Id" />, <L key="p" zh="双方" en="Parties" />, <L key="d" zh="数据集" en="Datasets" />, <L key="r" zh="文号" en="Document" />, <L key="v" zh="有效期至" en="Valid until" />, <L key="a" zh="操作" en="Action" />]}
        rows={items.map((a) => [
          <code key="i">{a.id}</code>,
          a.parties.join(' ↔ '),
          a.datasets.join(', '),
          a.documentRef,
          day(a.validUntil),
          <button
            key="b"
            type="button"
            onClick={() =>
              void gql(session, 'mutation Countersign($id: ID!) { countersignConfidentialityAgreement(id: $id) { status signedOn } }', { id: a.id }).then((r) => {
                setErrors(r.errors);
                if (r.errors.length === 0) onDone(`${a.id}: 已会签 Countersigned`);
              })
            }
          >
            <L zh="会签" en="Countersign" /> {a.id}
          </button>,
        ])}
      />
      <Errors errors={errors} />
    </>
  );
}
