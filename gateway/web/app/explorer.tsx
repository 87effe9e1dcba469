import { GraphiQL, type GraphiQLProps } from 'graphiql';
import { parse, print } from 'graphql';
import 'graphiql/graphiql.css';
import './explorer.css';
import { useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { claimsOf, devSignIn, loadPurpose, loadSession, pageConfig, savePurpose, saveSession, type GraphQLError, type Session } from './session.ts';
import { L, PurposeSelect } from './ui.tsx';

const config = pageConfig();
const params = new URLSearchParams(location.search);

/** A query passed in the URL (?query=), laid out for reading; as given when it does not parse. */
function queryFromUrl(): string | null {
  const q = params.get('query');
  if (q === null) return null;
  try {
    return print(parse(q));
  } catch {
    return q;
  }
}
const urlQuery = queryFromUrl();

const DEFAULT_QUERY = `# 政务数据共享交换 GraphQL 浏览器 · Exchange GraphQL explorer
# 设置令牌和用途后运行 · Set a token and a purpose above, then run (Ctrl-Enter).
# 文档面板列出每个字段的数据集、共享类型和敏感级别 · The docs pane shows each field's dataset, class and sensitivity.
{
  enterprise(uscc: "91445202MA4W3K7PX2") {
    name
    status
    taxpayerStatus
    taxCreditGrade
  }
}
`;

type Fetcher = GraphiQLProps['fetcher'];

function Explorer() {
  const [session, setSession] = useState<Session | null>(loadSession());
  const [purpose, setPurpose] = useState(params.get('purpose') ?? loadPurpose());
  const [tokenText, setTokenText] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [denials, setDenials] = useState<readonly GraphQLError[]>([]);
  const [devAgency, setDevAgency] = useState('eeb');

  const fetcher = useMemo<Fetcher>(
    () => async (graphQLParams) => {
      // Without a token the exchange answers 401 to everything, the schema included: say so here.
      if (session === null) return { errors: [{ message: '未登录：请在上方设置令牌 · Not signed in: set a token above (or sign in as an agency).' }] } as unknown as Awaited<ReturnType<Fetcher>>;
      const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' };
      if (session !== null) headers['authorization'] = `Bearer ${session.token}`;
      if (purpose !== '') headers['x-purpose'] = purpose;
      const res = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify(graphQLParams) });
      const body = (await res.json()) as { errors?: GraphQLError[] };
      // Only results of operations the user ran, not the schema's introspection.
      if (graphQLParams.operationName !== 'IntrospectionQuery') setDenials((body.errors ?? []).filter((e) => e.extensions?.sharing !== undefined));
      return body as Awaited<ReturnType<Fetcher>>;
    },
    [session, purpose],
  );

  const use = (s: Session | null) => {
    saveSession(s);
    setSession(s);
    setProblem(null);
  };

  return (
    <div className="explorer">
      <header className="explorer-bar">
        <h1>
          <L zh="GraphQL 浏览器" en="Explorer" />
        </h1>
        <form
          className="inline"
          onSubmit={(e) => {
            e.preventDefault();
            const s = claimsOf(tokenText);
            if (s === null) setProblem('这不是交换平台的令牌 · Not an exchange token (a JWT with an agency claim).');
            else use(s);
            setTokenText('');
          }}
        >
          <label htmlFor="token">
            <L zh="令牌" en="Token" />
          </label>
          <input id="token" type="password" autoComplete="off" placeholder={session === null ? 'Bearer JWT' : '••••••'} value={tokenText} onChange={(e) => setTokenText(e.target.value)} />
          <button type="submit">
            <L zh="使用" en="Use" />
          </button>
        </form>
        {config.devKey && (
          <form
            className="inline dev"
            onSubmit={(e) => {
              e.preventDefault();
              devSignIn(devAgency, []).then(use, (err: unknown) => setProblem(String(err)));
            }}
          >
            <label htmlFor="dev-agency">
              <L zh="开发密钥：以此身份登录" en="Development key: sign in as" />
            </label>
            <select id="dev-agency" value={devAgency} onChange={(e) => setDevAgency(e.target.value)}>
              {Object.keys(config.agencies).filter((a) => config.agencies[a]?.active === true).map((a) => (
                <option key={a} value={a}>
                  {a}
                </option>
              ))}
            </select>
            <button type="submit">
              <L zh="登录" en="Sign in" />
            </button>
          </form>
        )}
        <div className="inline">
          <label htmlFor="purpose">
            <L zh="用途" en="Purpose" /> (x-purpose)
          </label>
          <PurposeSelect
            id="purpose"
            config={config}
            value={purpose}
            onChange={(p) => {
              savePurpose(p);
              setPurpose(p);
            }}
          />
        </div>
        <p className="who" aria-live="polite">
          {session === null ? <L zh="未登录：先设置令牌" en="Not signed in: set a token first" /> : `${session.agency}${session.roles.length > 0 ? ` [${session.roles.join(', ')}]` : ''} · ${session.sub}`}
          {session !== null && (
            <button type="button" className="link" onClick={() => use(null)}>
              <L zh="退出" en="Sign out" />
            </button>
          )}{' '}
          <a href="/console">
            <L zh="控制台" en="Console" />
          </a>
        </p>
        {problem !== null && (
          <p className="error" role="alert">
            {problem}
          </p>
        )}
      </header>
      {denials.length > 0 && (
        <aside className="denials" aria-label="denied fields" role="status">
          <strong>
            <L zh="被拒绝的字段" en="Denied fields" />
          </strong>
          <ul>
            {denials.map((d, i) => (
              <li key={i}>
                <code>{d.extensions?.sharing?.coordinate}</code> · {d.extensions?.sharing?.reason} · <span className="remedy">{d.extensions?.sharing?.remedy}</span>
              </li>
            ))}
          </ul>
        </aside>
      )}
      <div className="graphiql-host">
        <GraphiQL key={session?.token ?? 'anonymous'} fetcher={fetcher} defaultQuery={DEFAULT_QUERY} {...(urlQuery !== null ? { query: urlQuery } : {})} isHeadersEditorEnabled={false} />
      </div>
    </div>
  );
}

createRoot(document.getElementById('root')!).render(<Explorer />);
