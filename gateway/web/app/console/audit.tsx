import { useState } from 'react';
import { gql, type GraphQLError, type PageConfig, type Session } from '../session.ts';
import { agencyName, Errors, L, Section, time, useQuery } from '../ui.tsx';

interface Record_ {
  ts: string;
  requestId: string;
  operationName: string | null;
  agency: string;
  roles: string[];
  purpose: string | null;
  coordinate: string;
  provider: string | null;
  decision: 'ALLOW' | 'DENY';
  reason: string | null;
  grantId: string | null;
}

export function AuditPage({ session, config }: { session: Session; config: PageConfig }) {
  const [key, setKey] = useState('');
  const [asked, setAsked] = useState<string | null>(null);
  const history = useQuery<{ accessHistory: Record_[] }>(
    session,
    asked === null ? null : 'query History($k: String!) { accessHistory(entityKey: $k, first: 1000) { ts requestId operationName agency roles purpose coordinate provider decision reason grantId } }',
    { k: asked },
  );
  const records = [...(history.data?.accessHistory ?? [])].sort((a, b) => (a.ts < b.ts ? 1 : -1));
  return (
    <>
      <Section id="access-history" zh="访问记录（按统一社会信用代码或身份证号）" en="Access history by USCC or ID number">
        <form className="row" onSubmit={(e) => { e.preventDefault(); setAsked(key.trim()); }}>
          <label htmlFor="entity-key"><L zh="统一社会信用代码 / 身份证号" en="USCC / ID number" /></label>
          <input id="entity-key" value={key} onChange={(e) => setKey(e.target.value)} placeholder="91445202MA4W3K7PX2" />
          <button type="submit"><L zh="查询" en="Look up" /></button>
        </form>
        <Errors errors={history.errors} />
        {asked !== null && history.data !== null && (
          <>
            <p role="status">
              {records.length} <L zh="条记录，最新在前" en="record(s), newest first" />
            </p>
            <ol className="timeline" aria-label="access history">
              {records.map((r) => (
                <li key={`${r.requestId}-${r.coordinate}`} className={r.decision === 'ALLOW' ? 'allow' : 'deny'} data-coordinate={r.coordinate} data-agency={r.agency} data-decision={r.decision}>
                  <time dateTime={r.ts}>{time(r.ts)}</time>{' '}
                  <strong>{agencyName(config, r.agency)}</strong>
                  {r.roles.length > 0 ? ` [${r.roles.join(', ')}]` : ''} · <code>{r.coordinate}</code> · {r.purpose ?? '—'} ·{' '}
                  <span className="decision">{r.decision === 'ALLOW' ? '允许 ALLOW' : '拒绝 DENY'}</span> {r.reason ?? ''}
                  {r.grantId !== null ? ` · ${r.grantId}` : ''}
                  <div className="meta">
                    {r.operationName ?? '(anonymous)'} · {r.requestId}
                  </div>
                </li>
              ))}
            </ol>
          </>
        )}
      </Section>
      <ChainStatus session={session} />
      <Export session={session} />
    </>
  );
}

function ChainStatus({ session }: { session: Session }) {
  const q = useQuery<{ auditChainStatus: { intact: boolean; logs: { log: string; intact: boolean; chains: number; records: number; problem: string | null; notes: string[] }[] } }>(
    session,
    'query Chains { auditChainStatus { intact logs { log intact chains records problem notes } } }',
  );
  return (
    <Section id="chain-status" zh="哈希链状态" en="Chain status">
      <Errors errors={q.errors} />
      {q.data !== null && (
        <>
          <p className={q.data.auditChainStatus.intact ? 'ok' : 'error'} role="status" data-testid="chain-status">
            {q.data.auditChainStatus.intact ? <L zh="完整：所有链均已验证" en="Intact: every chain verified" /> : <L zh="已损坏" en="BROKEN" />}
          </p>
          <ul>
            {q.data.auditChainStatus.logs.map((l) => (
              <li key={l.log}>
                {l.log === 'audit' ? '访问日志 access log' : '账本 ledger'}: {l.intact ? '✓' : '✗'} {l.records} <L zh="条记录" en="records" />, {l.chains} <L zh="条链" en="chains" />
                {l.problem !== null && <div className="error">{l.problem}</div>}
                {l.notes.map((n) => <div key={n} className="meta">{n}</div>)}
              </li>
            ))}
          </ul>
        </>
      )}
      <button type="button" onClick={q.reload}>
        <L zh="重新验证" en="Verify again" />
      </button>
    </Section>
  );
}

function Export({ session }: { session: Session }) {
  const [since, setSince] = useState('');
  const [until, setUntil] = useState('');
  const [errors, setErrors] = useState<readonly GraphQLError[]>([]);
  const [link, setLink] = useState<{ href: string; name: string; records: number } | null>(null);
  return (
    <Section id="export" zh="导出签名数据包" en="Export a signed bundle">
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          void gql<{ auditExport: string }>(session, 'query Export($since: String, $until: String) { auditExport(since: $since, until: $until) }', { since: since === '' ? null : since, until: until === '' ? null : `${until}T23:59:59.999+08:00` }).then((r) => {
            setErrors(r.errors);
            if (r.data === null) return;
            const bundle = JSON.parse(r.data.auditExport) as { instances: { records: object[] }[] };
            const records = bundle.instances.reduce((n, i) => n + i.records.filter((x) => !('redacted' in x)).length, 0);
            if (link !== null) URL.revokeObjectURL(link.href);
            setLink({ href: URL.createObjectURL(new Blob([r.data.auditExport], { type: 'application/json' })), name: `audit-bundle-${new Date().toISOString().slice(0, 10)}.json`, records });
          });
        }}
      >
        <label htmlFor="export-since"><L zh="自" en="Since" /></label>
        <input id="export-since" type="date" value={since} onChange={(e) => setSince(e.target.value)} />
        <label htmlFor="export-until"><L zh="至" en="Until" /></label>
        <input id="export-until" type="date" value={until} onChange={(e) => setUntil(e.target.value)} />
        <button type="submit"><L zh="生成" en="Build" /></button>
      </form>
      <Errors errors={errors} />
      {link !== null && (
        <p className="ok" role="status">
          {link.records} <L zh="条记录已签名" en="records signed" /> ·{' '}
          <a href={link.href} download={link.name}>
            <L zh="下载" en="Download" /> {link.name}
          </a>{' '}
          · <L zh="离线验证" en="verify offline" />: <code>npm run audit -- verify --bundle {link.name}</code>
        </p>
      )}
    </Section>
  );
}
