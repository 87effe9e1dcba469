import { useState } from 'react';
import { gql, type GraphQLError, type PageConfig, type Session } from '../session.ts';
import { agencyName, day, Errors, L, purposeName, Section, Table, useNotice, useQuery } from '../ui.tsx';
import { EscalateRequests } from './oversight.tsx';

interface Dataset {
  id: string;
  name: string;
  nameEn: string;
  description: string;
  format: string;
  provider: string;
  class: string;
  sensitivity: string | null;
  coordinates: string[];
  frequency: string;
  lastUpdate: string | null;
  freshness: string;
  purposes: string[];
  conditions: string;
}

const DATASET_FIELDS = 'id name nameEn description format provider class sensitivity coordinates frequency lastUpdate freshness purposes conditions';

const CLASS_ZH: Record<string, string> = { UNCONDITIONAL: '无条件共享', CONDITIONAL: '有条件共享', NOT_SHARED: '不予共享' };
const SENSITIVITY_ZH: Record<string, string> = { PERSONAL: '个人信息', COMMERCIAL: '商业秘密', STATE_SECRET: '国家秘密' };

export function classLabel(c: string): string {
  return `${CLASS_ZH[c] ?? c} ${c}`;
}

export function sensitivityLabel(s: string | null): string {
  return s === null ? '无 none' : `${SENSITIVITY_ZH[s] ?? s} ${s}`;
}

export function CatalogPage({ session, config }: { session: Session; config: PageConfig }) {
  const [search, setSearch] = useState('');
  const [applied, setApplied] = useState('');
  const q = useQuery<{ catalog: { items: Dataset[]; totalCount: number } }>(session, `query Catalog($search: String) { catalog(search: $search, first: 100) { totalCount items { ${DATASET_FIELDS} } } }`, applied === '' ? {} : { search: applied });
  return (
    <Section id="catalog" zh="共享目录" en="Sharing catalog">
      <form
        role="search"
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(search);
        }}
      >
        <label htmlFor="catalog-search">
          <L zh="搜索（中文或英文名称）" en="Search (Chinese or English name)" />
        </label>
        <input id="catalog-search" value={search} onChange={(e) => setSearch(e.target.value)} />
        <button type="submit">
          <L zh="搜索" en="Search" />
        </button>
      </form>
      <Errors errors={q.errors} />
      {q.data !== null && (
        <Table
          caption={`${q.data.catalog.totalCount} 个数据集 datasets`}
          head={[<L key="n" zh="数据集" en="Dataset" />, <L key="p" zh="提供方" en="Provider" />, <L key="c" zh="共享类型" en="Class" />, <L key="s" zh="敏感级别" en="Sensitivity" />, <L key="f" zh="更新周期 / 时效" en="Frequency / freshness" />]}
          rows={q.data.catalog.items.map((d) => [
            <a key="a" href={`#/catalog/${encodeURIComponent(d.id)}`}>
              {d.name} · {d.nameEn}
              <br />
              <code>{d.id}</code>
            </a>,
            agencyName(config, d.provider),
            classLabel(d.class),
            sensitivityLabel(d.sensitivity),
            `${d.frequency} · ${d.freshness}`,
          ])}
        />
      )}
    </Section>
  );
}

export function DatasetPage({ session, config, id }: { session: Session; config: PageConfig; id: string }) {
  const q = useQuery<{ catalog: { items: Dataset[] } }>(session, `query Catalog { catalog(first: 100) { items { ${DATASET_FIELDS} } } }`);
  const d = q.data?.catalog.items.find((x) => x.id === id);
  return (
    <>
      <p>
        <a href="#/catalog">← <L zh="返回目录" en="Back to the catalog" /></a>
      </p>
      <Errors errors={q.errors} />
      {q.data !== null && d === undefined && (
        <p role="alert">
          <L zh="目录中没有此数据集" en="No such dataset in the catalog" />: {id}
        </p>
      )}
      {d !== undefined && (
        <>
          <Section id="dataset" zh={d.name} en={d.nameEn}>
            <dl className="facts">
              <dt><L zh="标识" en="Id" /></dt>
              <dd><code>{d.id}</code></dd>
              <dt><L zh="提供方" en="Provider" /></dt>
              <dd>{agencyName(config, d.provider)}</dd>
              <dt><L zh="共享类型" en="Sharing class" /></dt>
              <dd>{classLabel(d.class)}</dd>
              <dt><L zh="敏感级别" en="Sensitivity" /></dt>
              <dd>{sensitivityLabel(d.sensitivity)}</dd>
              <dt><L zh="目录用途" en="Catalogued purposes" /></dt>
              <dd>{d.purposes.length === 0 ? '—' : d.purposes.map((p) => purposeName(config, p)).join('；')}</dd>
              <dt><L zh="数据格式" en="Format" /></dt>
              <dd>{d.format}</dd>
              <dt><L zh="更新周期" en="Update frequency" /></dt>
              <dd>{d.frequency}</dd>
              <dt><L zh="时效" en="Freshness" /></dt>
              <dd>{d.freshness} · <L zh="最近更新" en="last update" /> {day(d.lastUpdate)}</dd>
              <dt><L zh="共享条件" en="Conditions" /></dt>
              <dd>{d.conditions}</dd>
              <dt><L zh="字段" en="Fields" /></dt>
              <dd>{d.coordinates.map((c) => <code key={c} className="chip">{c}</code>)}</dd>
            </dl>
            <p>{d.description}</p>
          </Section>
          {d.class === 'CONDITIONAL' && d.provider !== session.agency && <RequestAccess session={session} config={config} dataset={d} />}
        </>
      )}
    </>
  );
}

function RequestAccess({ session, config, dataset }: { session: Session; config: PageConfig; dataset: Dataset }) {
  const [purposes, setPurposes] = useState<string[]>(dataset.purposes.slice(0, 1));
  const [legalBasis, setLegalBasis] = useState('');
  const [justification, setJustification] = useState('');
  const [validUntil, setValidUntil] = useState(`${new Date().getFullYear() + 1}-12-31`);
  const [result, setResult] = useState<{ id: string; status: string; dueBy: string; workingDaysLeft: number } | null>(null);
  const [errors, setErrors] = useState<readonly GraphQLError[]>([]);
  return (
    <Section id="request-access" zh="申请共享" en="Request access">
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void gql<{ fileSharingRequest: { id: string; status: string; dueBy: string; workingDaysLeft: number } }>(
            session,
            'mutation File($provider: String!, $datasets: [String!]!, $purposes: [String!]!, $legalBasis: String!, $justification: String!, $validUntil: String!) { fileSharingRequest(provider: $provider, datasets: $datasets, purposes: $purposes, legalBasis: $legalBasis, justification: $justification, validUntil: $validUntil) { id status dueBy workingDaysLeft } }',
            { provider: dataset.provider, datasets: [dataset.id], purposes, legalBasis, justification, validUntil },
          ).then((r) => {
            setErrors(r.errors);
            setResult(r.data?.fileSharingRequest ?? null);
          });
        }}
      >
        <fieldset>
          <legend><L zh="用途（目录所列）" en="Purposes (as catalogued)" /></legend>
          {dataset.purposes.map((p) => (
            <label key={p} className="check">
              <input type="checkbox" checked={purposes.includes(p)} onChange={(e) => setPurposes(e.target.checked ? [...purposes, p] : purposes.filter((x) => x !== p))} /> {purposeName(config, p)}
            </label>
          ))}
        </fieldset>
        <label htmlFor="legal-basis"><L zh="法律依据" en="Legal basis" /></label>
        <input id="legal-basis" required value={legalBasis} onChange={(e) => setLegalBasis(e.target.value)} />
        <label htmlFor="justification"><L zh="申请理由" en="Justification" /></label>
        <textarea id="justification" required rows={3} value={justification} onChange={(e) => setJustification(e.target.value)} />
        <label htmlFor="valid-until"><L zh="有效期至" en="Valid until" /></label>
        <input id="valid-until" type="date" required value={validUntil} onChange={(e) => setValidUntil(e.target.value)} />
        <button type="submit"><L zh="提交申请" en="File the request" /></button>
      </form>
      <Errors errors={errors} />
      {result !== null && (
        <p className="ok" role="status" data-testid="filed">
          <L zh="已提交" en="Filed" />: <code>{result.id}</code> · {result.status} · <L zh="答复期限" en="answer due by" /> {result.dueBy}（{result.workingDaysLeft} <L zh="个工作日" en="working days" />）
        </p>
      )}
    </Section>
  );
}

interface Agreement {
  id: string;
  parties: string[];
  datasets: string[];
  status: string;
  proposedBy: string | null;
  countersignedBy: string | null;
  validUntil: string;
  documentRef: string;
}

export function MinePage({ session, config }: { session: Session; config: PageConfig }) {
  const requests = useQuery<{ sharingRequests: { id: string; provider: string; datasets: string[]; purposes: string[]; status: string; receivedAt: string; dueBy: string; workingDaysLeft: number; answer: string | null; grantIds: string[] }[] }>(
    session,
    'query Mine { sharingRequests(role: CONSUMER) { id provider datasets purposes status receivedAt dueBy workingDaysLeft answer grantIds } }',
  );
  const grants = useQuery<{ grants: { items: { id: string; consumer: string; provider: string | null; dataset: string; purposes: string[]; validUntil: string; state: string }[] } }>(
    session,
    'query Grants { grants(first: 200) { items { id consumer provider dataset purposes validUntil state } } }',
  );
  const agreements = useQuery<{ confidentialityAgreements: Agreement[] }>(session, 'query Agreements { confidentialityAgreements { id parties datasets status proposedBy countersignedBy validUntil documentRef } }');
  const { notice, show } = useNotice();
  return (
    <>
      {notice}
      <Section id="my-requests" zh="我的共享申请" en="My sharing requests">
        <Errors errors={requests.errors} />
        <Table
          head={[<L key="i" zh="编号" en="Id" />, <L key="p" zh="提供方" en="Provider" />, <L key="d" zh="数据集 / 用途" en="Datasets / purposes" />, <L key="s" zh="状态" en="Status" />, <L key="b" zh="答复期限" en="Due by" />, <L key="a" zh="答复" en="Answer" />]}
          rows={(requests.data?.sharingRequests ?? []).map((r) => [<code key="i">{r.id}</code>, agencyName(config, r.provider), `${r.datasets.join(', ')} / ${r.purposes.join(', ')}`, r.status, `${r.dueBy}（${r.workingDaysLeft}）`, r.answer ?? '—'])}
        />
        <EscalateRequests
          session={session}
          config={config}
          requests={requests.data?.sharingRequests ?? []}
          onDone={(t) => {
            requests.reload();
            show(t);
          }}
        />
      </Section>
      <Section id="my-grants" zh="授权" en="Grants">
        <Errors errors={grants.errors} />
        <Table
          head={[<L key="i" zh="编号" en="Id" />, <L key="c" zh="使用方" en="Consumer" />, <L key="p" zh="提供方" en="Provider" />, <L key="d" zh="数据集" en="Dataset" />, <L key="u" zh="用途" en="Purposes" />, <L key="v" zh="有效期至" en="Valid until" />, <L key="s" zh="状态" en="State" />]}
          rows={(grants.data?.grants.items ?? []).map((g) => [<code key="i">{g.id}</code>, g.consumer, g.provider ?? '—', g.dataset, g.purposes.join(', '), day(g.validUntil), g.state])}
        />
      </Section>
      <Section id="my-agreements" zh="保密协议" en="Confidentiality agreements">
        <Errors errors={agreements.errors} />
        <Table
          head={[<L key="i" zh="编号" en="Id" />, <L key="p" zh="双方" en="Parties" />, <L key="d" zh="数据集" en="Datasets" />, <L key="r" zh="文号" en="Document" />, <L key="s" zh="状态" en="Status" />, <L key="v" zh="有效期至" en="Valid until" />]}
          rows={(agreements.data?.confidentialityAgreements ?? []).map((a) => [<code key="i">{a.id}</code>, a.parties.join(' ↔ '), a.datasets.join(', '), a.documentRef, a.status, day(a.validUntil)])}
        />
        <ProposeAgreement session={session} config={config} onDone={agreements.reload} />
      </Section>
    </>
  );
}

function ProposeAgreement({ session, config, onDone }: { session: Session; config: PageConfig; onDone: () => void }) {
  const [counterparty, setCounterparty] = useState('tax');
  const [datasets, setDatasets] = useState('');
  const [validUntil, setValidUntil] = useState(`${new Date().getFullYear() + 2}-01-01`);
  const [documentRef, setDocumentRef] = useState('');
  const [errors, setErrors] = useState<readonly GraphQLError[]>([]);
  const [done, setDone] = useState<string | null>(null);
  return (
    <form
      className="stack"
      aria-labelledby="propose-agreement"
      onSubmit={(e) => {
        e.preventDefault();
        void gql<{ proposeConfidentialityAgreement: { id: string; status: string } }>(
          session,
          'mutation Propose($counterparty: String!, $datasets: [String!]!, $validUntil: String!, $documentRef: String!) { proposeConfidentialityAgreement(counterparty: $counterparty, datasets: $datasets, validUntil: $validUntil, documentRef: $documentRef) { id status } }',
          { counterparty, datasets: datasets.split(/[,，\s]+/).filter((x) => x !== ''), validUntil, documentRef },
        ).then((r) => {
          setErrors(r.errors);
          const a = r.data?.proposeConfidentialityAgreement;
          setDone(a === undefined ? null : `${a.id} · ${a.status}`);
          onDone();
        });
      }}
    >
      <h3 id="propose-agreement"><L zh="提议保密协议（由对方会签后生效）" en="Propose an agreement (in force once the other party countersigns)" /></h3>
      <label htmlFor="counterparty"><L zh="对方机构" en="Counterparty" /></label>
      <select id="counterparty" value={counterparty} onChange={(e) => setCounterparty(e.target.value)}>
        {Object.keys(config.agencies).filter((a) => a !== session.agency && config.agencies[a]?.active === true).map((a) => <option key={a} value={a}>{agencyName(config, a)}</option>)}
      </select>
      <label htmlFor="agreement-datasets"><L zh="数据集（逗号分隔）" en="Datasets (comma-separated)" /></label>
      <input id="agreement-datasets" required value={datasets} onChange={(e) => setDatasets(e.target.value)} placeholder="tax.credit-rating" />
      <label htmlFor="agreement-until"><L zh="有效期至" en="Valid until" /></label>
      <input id="agreement-until" type="date" required value={validUntil} onChange={(e) => setValidUntil(e.target.value)} />
      <label htmlFor="agreement-ref"><L zh="协议文号" en="Document reference" /></label>
      <input id="agreement-ref" required value={documentRef} onChange={(e) => setDocumentRef(e.target.value)} />
      <button type="submit"><L zh="签署并提议" en="Sign and propose" /></button>
      <Errors errors={errors} />
      {done !== null && <p className="ok" role="status" data-testid="proposed">{done}</p>}
    </form>
  );
}
