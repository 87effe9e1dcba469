import { useState, type ReactNode } from 'react';
import { gql, type GraphQLError, type PageConfig, type Session } from '../session.ts';
import { ActionForm, agencyName, Errors, field, L, Section, Table, time, useNotice, useQuery } from '../ui.tsx';
import { isCoordinator } from './access.ts';

/**
 * Subgraph proposals: a member proposes its subgraph (checked first, in the same check the
 * authority sees), the authority's coordinators approve it (a new supergraph version) or refuse
 * it, in writing either way.
 */

export interface CheckReport {
  approvable: boolean;
  compositionErrors: string[];
  undeclaredFields: string[];
  sources: { item: string; members: string[]; message: string }[];
  guardrails: string[];
  breakingChanges: { coordinate: string; change: string; grants: string[]; readers: { agency: string; reads: number }[]; message: string }[];
  catalogDiff: { dataset: string; field: string; before: string | null; after: string | null }[];
  readsFrom: string;
}

interface Proposal {
  id: string;
  subgraph: string;
  member: string;
  url: string;
  sdl: string;
  note: string;
  proposedAt: string;
  proposedBy: string;
  status: string;
  report: CheckReport;
  decidedAt: string | null;
  decidedBy: string | null;
  reasons: string | null;
  version: number | null;
}

export const REPORT_FIELDS = 'approvable compositionErrors undeclaredFields sources { item members message } guardrails breakingChanges { coordinate change grants readers { agency reads } message } catalogDiff { dataset field before after } readsFrom';
const PROPOSAL_FIELDS = `id subgraph member url sdl note proposedAt proposedBy status report { ${REPORT_FIELDS} } decidedAt decidedBy reasons version`;

const STATUS_LABEL: Record<string, string> = { PENDING: '待审 pending', APPROVED: '已批准 approved', REFUSED: '已拒绝 refused' };

export function ProposalsPage({ session, config }: { session: Session; config: PageConfig }) {
  const proposals = useQuery<{ proposals: Proposal[] }>(session, `query Proposals { proposals { ${PROPOSAL_FIELDS} } }`);
  const { notice, show } = useNotice();
  const done = (text: string) => {
    proposals.reload();
    show(text);
  };
  const list = [...(proposals.data?.proposals ?? [])].sort((a, b) => b.proposedAt.localeCompare(a.proposedAt));
  const pending = list.filter((p) => p.status === 'PENDING');
  const decided = list.filter((p) => p.status !== 'PENDING');
  const coordinator = isCoordinator(session);
  return (
    <>
      {notice}
      <Section id="pending-proposals" zh="待审的提议" en="Pending proposals">
        <p className="hint">
          {coordinator ? <L zh="监督机构看到所有成员的提议。" en="The authority sees every member's proposals." /> : <L zh={`仅列出 ${session.agency} 自己的提议。`} en={`Only the proposals of ${session.agency} are listed.`} />}
        </p>
        <Errors errors={proposals.errors} />
        {proposals.data !== null && pending.length === 0 && <p className="empty"><L zh="没有待审的提议" en="No proposal waiting for a decision" /></p>}
        {pending.map((p) => (
          <ProposalCard key={p.id} p={p} config={config}>
            {coordinator && <Decide session={session} p={p} onDone={done} />}
          </ProposalCard>
        ))}
      </Section>
      <Section id="decided-proposals" zh="已决定的提议" en="Decided proposals">
        {proposals.data !== null && decided.length === 0 && <p className="empty"><L zh="尚无已决定的提议" en="No proposal decided yet" /></p>}
        {decided.map((p) => <ProposalCard key={p.id} p={p} config={config} />)}
      </Section>
      <Section id="propose" zh="提议子图" en="Propose a subgraph">
        <ProposeForm session={session} config={config} onDone={done} />
      </Section>
    </>
  );
}

function ProposalCard({ p, config, children }: { p: Proposal; config: PageConfig; children?: ReactNode }) {
  return (
    <article className="request" aria-labelledby={`proposal-${p.id}`} data-proposal={p.id} data-status={p.status}>
      <h3 id={`proposal-${p.id}`}>
        <code>{p.id}</code> · {p.subgraph} · {agencyName(config, p.member)} · {STATUS_LABEL[p.status] ?? p.status}
      </h3>
      <dl className="facts">
        <dt><L zh="地址" en="URL" /></dt>
        <dd><code>{p.url}</code></dd>
        <dt><L zh="提议" en="Proposed" /></dt>
        <dd>{time(p.proposedAt)} · {p.proposedBy}</dd>
        {p.note !== '' && (
          <>
            <dt><L zh="说明" en="Note" /></dt>
            <dd>{p.note}</dd>
          </>
        )}
        {p.status !== 'PENDING' && (
          <>
            <dt><L zh="决定" en="Decision" /></dt>
            <dd>
              {time(p.decidedAt)} · {p.decidedBy ?? '—'}
              {p.version !== null && <> · <L zh={`版本 ${p.version}`} en={`version ${p.version}`} /></>}
            </dd>
            <dt><L zh="理由" en="Reasons" /></dt>
            <dd>{p.reasons ?? '—'}</dd>
          </>
        )}
      </dl>
      <details>
        <summary><L zh="SDL 全文" en="The SDL" /></summary>
        <pre className="lines">{p.sdl}</pre>
      </details>
      <Report report={p.report} config={config} />
      {children}
    </article>
  );
}

function Decide({ session, p, onDone }: { session: Session; p: Proposal; onDone: (t: string) => void }) {
  const reasons = (f: FormData): string | null => (field(f, 'reasons') === '' ? '请填写决定理由 · Write the reasons for the decision.' : null);
  return (
    <ActionForm
      session={session}
      label={`decide ${p.id}`}
      onDone={onDone}
      actions={[
        {
          zh: '批准并发布',
          en: 'Approve and publish',
          mutation: 'mutation Approve($id: String!, $reasons: String!) { approveProposal(id: $id, reasons: $reasons) { version } }',
          vars: (f) => reasons(f) ?? { id: p.id, reasons: field(f, 'reasons') },
          confirm: p.report.approvable
            ? { zh: '批准将发布新的超图版本，所有网关随即使用。', en: 'Approving publishes a new supergraph version, which every gateway then serves.' }
            : { zh: '检查报告列有问题：交换平台可能拒绝批准。', en: 'The check reports problems: the exchange may refuse to approve it.' },
        },
        {
          zh: '拒绝',
          en: 'Refuse',
          mutation: 'mutation Refuse($id: String!, $reasons: String!) { refuseProposal(id: $id, reasons: $reasons) { status } }',
          vars: (f) => reasons(f) ?? { id: p.id, reasons: field(f, 'reasons') },
          confirm: { zh: '拒绝决定不可撤回。', en: 'A refusal cannot be undone.' },
          danger: true,
        },
      ]}
    >
      <label htmlFor={`decide-reasons-${p.id}`}><L zh="决定理由（必填）" en="Reasons (required)" /></label>
      <textarea id={`decide-reasons-${p.id}`} name="reasons" rows={2} />
    </ActionForm>
  );
}

function Problems({ title, items }: { title: ReactNode; items: readonly ReactNode[] }) {
  return (
    <div className={items.length === 0 ? 'check ok-check' : 'check bad-check'}>
      <h4>{title} <span className="count">{items.length === 0 ? '✓ 无 none' : `✗ ${items.length}`}</span></h4>
      {items.length > 0 && (
        <ul>
          {items.map((t, i) => <li key={i}>{t}</li>)}
        </ul>
      )}
    </div>
  );
}

/** The check's report, every part of it, problems first. */
export function Report({ report: r, config }: { report: CheckReport; config: PageConfig }) {
  return (
    <section className="report" aria-label="检查报告 check report" data-approvable={r.approvable}>
      <p className={r.approvable ? 'ok' : 'error'} data-testid="approvable">
        {r.approvable ? <L zh="检查通过：可以批准" en="The check passes: approvable" /> : <L zh="检查未通过：需先修正下列问题" en="The check fails: fix the problems below first" />}
      </p>
      <div className="checks">
        <Problems title={<L zh="组合错误" en="Composition errors" />} items={r.compositionErrors.map((e) => <span className="lines">{e}</span>)} />
        <Problems title={<L zh="未声明数据集的字段" en="Fields without a dataset" />} items={r.undeclaredFields.map((f) => <code>{f}</code>)} />
        <Problems title={<L zh="同一数据多个来源" en="One data, several sources" />} items={r.sources.map((s) => <><code>{s.item}</code> · {s.members.join(', ')} — {s.message}</>)} />
        <Problems title={<L zh="共享类型与敏感级别" en="Class and sensitivity guardrails" />} items={r.guardrails} />
      </div>
      <section aria-label="破坏性变更 Breaking changes" className="breaking">
        <h4>
          <L zh="破坏性变更" en="Breaking changes" /> <span className="count">{r.breakingChanges.length === 0 ? '✓ 无 none' : `${r.breakingChanges.length}`}</span>
        </h4>
        {r.breakingChanges.length > 0 && (
          <Table
            caption={`读取次数来自${r.readsFrom === 'archive' ? '归档库' : '访问日志'}，近 90 天 · reads from the ${r.readsFrom}, last 90 days`}
            head={[<L key="c" zh="字段" en="Coordinate" />, <L key="k" zh="变更" en="Change" />, <L key="g" zh="受影响的授权" en="Grants naming it" />, <L key="r" zh="读取机构（次数）" en="Agencies reading it (reads)" />, <L key="m" zh="说明" en="Message" />]}
            rows={r.breakingChanges.map((b) => [
              <code key="c" className="nowrap">{b.coordinate}</code>,
              <span key="k" className="nowrap">{b.change}</span>,
              b.grants.length === 0 ? '—' : b.grants.map((g) => <code key={g} className="chip">{g}</code>),
              b.readers.length === 0 ? '—' : <span key="r">{b.readers.map((x) => `${agencyName(config, x.agency)}（${x.reads}）`).join('；')}</span>,
              <span key="m" className="wide">{b.message}</span>,
            ])}
          />
        )}
      </section>
      <section aria-label="目录变更 Catalog diff" className="catalog-diff">
        <h4>
          <L zh="目录变更" en="Catalog diff" /> <span className="count">{r.catalogDiff.length === 0 ? '— 无 none' : `${r.catalogDiff.length}`}</span>
        </h4>
        {r.catalogDiff.length > 0 && (
          <Table
            head={[<L key="d" zh="数据集" en="Dataset" />, <L key="f" zh="项目" en="Field" />, <L key="b" zh="原值" en="Before" />, <L key="a" zh="新值" en="After" />]}
            rows={r.catalogDiff.map((c) => [<code key="d">{c.dataset}</code>, c.field, c.before ?? '—', c.after ?? '—'])}
          />
        )}
      </section>
    </section>
  );
}

interface ProposalInput {
  subgraph: string;
  url: string;
  sdl: string;
  catalog?: string;
  note?: string;
}

/** A member's proposal: checked first (nothing recorded), then proposed once the check was seen. */
function ProposeForm({ session, config, onDone }: { session: Session; config: PageConfig; onDone: (t: string) => void }) {
  const [input, setInput] = useState({ subgraph: '', url: '', sdl: '', catalog: '', note: '' });
  const [checked, setChecked] = useState<{ key: string; report: CheckReport } | null>(null);
  const [errors, setErrors] = useState<readonly GraphQLError[]>([]);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof input) => (e: { target: { value: string } }) => setInput({ ...input, [k]: e.target.value });
  const key = JSON.stringify(input);
  const current = checked !== null && checked.key === key;

  const variables = (): { input: ProposalInput } | string => {
    const v = { subgraph: input.subgraph.trim(), url: input.url.trim(), sdl: input.sdl, catalog: input.catalog.trim(), note: input.note.trim() };
    if (v.subgraph === '') return '请填写子图名称 · Write the subgraph\u2019s name.';
    if (v.url === '') return '请填写子图地址 · Write the subgraph\u2019s URL.';
    if (v.sdl.trim() === '') return '请粘贴 SDL · Paste the subgraph\u2019s SDL.';
    if (v.catalog !== '') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(v.catalog);
      } catch (e) {
        return `目录条目不是 JSON · The catalog entries are not JSON: ${e instanceof Error ? e.message : String(e)}`;
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return '目录条目须是 JSON 对象（数据集标识 → 条目） · The catalog entries must be a JSON object: dataset id → entry.';
    }
    return { input: { subgraph: v.subgraph, url: v.url, sdl: v.sdl, ...(v.catalog === '' ? {} : { catalog: v.catalog }), ...(v.note === '' ? {} : { note: v.note }) } };
  };

  const send = <T,>(query: string, then: (data: T) => void) => {
    const vars = variables();
    if (typeof vars === 'string') {
      setErrors([{ message: vars }]);
      return;
    }
    setBusy(true);
    setErrors([]);
    gql<T>(session, query, vars).then(
      (res) => {
        setBusy(false);
        setErrors(res.errors);
        if (res.errors.length === 0 && res.data !== null) then(res.data);
      },
      (e: unknown) => {
        setBusy(false);
        setErrors([{ message: `无法连接交换平台 · The exchange could not be reached (${String(e)})` }]);
      },
    );
  };

  return (
    <form
      className="propose"
      aria-label="propose a subgraph"
      onSubmit={(e) => {
        e.preventDefault();
        const which = ((e.nativeEvent as SubmitEvent).submitter as HTMLButtonElement | null)?.value;
        if (which === 'propose')
          send<{ proposeSubgraph: { id: string; status: string } }>(`mutation Propose($input: SubgraphProposalInput!) { proposeSubgraph(input: $input) { id status } }`, (d) => {
            setChecked(null);
            setInput({ subgraph: '', url: '', sdl: '', catalog: '', note: '' });
            onDone(`已提议 Proposed: ${d.proposeSubgraph.id} · ${d.proposeSubgraph.status}`);
          });
        else send<{ checkSubgraph: CheckReport }>(`query Check($input: SubgraphProposalInput!) { checkSubgraph(input: $input) { ${REPORT_FIELDS} } }`, (d) => setChecked({ key, report: d.checkSubgraph }));
      }}
    >
      <p className="hint">
        <L zh={`以 ${session.agency} 的名义提议；子图名称属于首次发布它的成员。先检查，看过报告再提议。`} en={`Proposed in the name of ${session.agency}; a subgraph name belongs to the member that first published it. Check first, then propose once you have read the report.`} />
      </p>
      <label htmlFor="propose-subgraph"><L zh="子图名称" en="Subgraph name" /></label>
      <input id="propose-subgraph" value={input.subgraph} onChange={set('subgraph')} autoComplete="off" spellCheck={false} />
      <label htmlFor="propose-url"><L zh="地址" en="URL" /></label>
      <input id="propose-url" type="url" value={input.url} onChange={set('url')} placeholder="http://127.0.0.1:4010/graphql" autoComplete="off" spellCheck={false} />
      <label htmlFor="propose-sdl"><L zh="SDL 全文" en="SDL" /></label>
      <textarea id="propose-sdl" rows={10} value={input.sdl} onChange={set('sdl')} spellCheck={false} />
      <label htmlFor="propose-catalog"><L zh="目录条目（JSON，可选）" en="Catalog entries (JSON, optional)" /></label>
      <textarea id="propose-catalog" rows={5} value={input.catalog} onChange={set('catalog')} spellCheck={false} placeholder='{ "amr.example": { "name": "…", "nameEn": "…", … } }' />
      <label htmlFor="propose-note"><L zh="说明（可选）" en="Note (optional)" /></label>
      <input id="propose-note" value={input.note} onChange={set('note')} />
      <div className="buttons">
        <button type="submit" value="check" disabled={busy}><L zh="检查" en="Check" /></button>{' '}
        <button type="submit" value="propose" disabled={busy || !current} aria-describedby="propose-why">
          <L zh="提议" en="Propose" />
        </button>
        {!current && (
          <span id="propose-why" className="meta">
            <L zh="（先检查当前内容）" en="(check the current text first)" />
          </span>
        )}
      </div>
      <Errors errors={errors} />
      {checked !== null && (
        <div className="checked" data-testid="check-report">
          {!current && <p className="meta"><L zh="内容已改动，此报告针对改动前的内容。" en="The text changed since: this report is of the text before." /></p>}
          <Report report={checked.report} config={config} />
        </div>
      )}
    </form>
  );
}
