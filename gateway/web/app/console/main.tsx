import './console.css';
import { useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { claimsOf, devSignIn, loadSession, pageConfig, saveSession, type Session } from '../session.ts';
import { L } from '../ui.tsx';
import { pagesFor } from './access.ts';
import { AuditPage } from './audit.tsx';
import { AuthorityPage } from './authority.tsx';
import { CatalogPage, DatasetPage, MinePage } from './developers.tsx';
import { InboxPage } from './inbox.tsx';
import { MembersPage } from './members.tsx';
import { PolicyPage } from './policy.tsx';
import { ProposalsPage } from './proposals.tsx';
import { VersionsPage } from './versions.tsx';

const config = pageConfig();


function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return hash.replace(/^#\/?/, '');
}

function SignIn({ onSession }: { onSession: (s: Session) => void }) {
  const [token, setToken] = useState('');
  const [agency, setAgency] = useState('eeb');
  const [roles, setRoles] = useState<string[]>([]);
  const [problem, setProblem] = useState<string | null>(null);
  return (
    <main id="main" className="signin" tabIndex={-1}>
      <section className="card" aria-labelledby="signin-token">
        <h2 id="signin-token">
          <L zh="用令牌登录" en="Sign in with a token" />
        </h2>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const s = claimsOf(token);
            if (s === null) setProblem('这不是交换平台的令牌 · Not an exchange token (a JWT with an agency claim).');
            else onSession(s);
          }}
        >
          <label htmlFor="token-input">
            <L zh="令牌 (JWT)" en="Token (JWT)" />
          </label>
          <textarea id="token-input" rows={4} value={token} onChange={(e) => setToken(e.target.value)} autoComplete="off" spellCheck={false} />
          <button type="submit">
            <L zh="登录" en="Sign in" />
          </button>
        </form>
      </section>
      {config.devKey && (
        <section className="card dev" aria-labelledby="signin-dev">
          <h2 id="signin-dev">
            <L zh="试用：以机构 / 角色登录" en="Try it: sign in as an agency / role" />
          </h2>
          <p className="warning" role="note">
            <L zh="网关正在使用开发密钥。任何能访问本机的人都能以任意机构登录；正式部署请设置 JWT_SECRET 或 JWT_PUBLIC_KEY，此选项随即消失。" en="The gateway is using its development key: anyone on this machine can sign in as any agency. Set JWT_SECRET or JWT_PUBLIC_KEY for real use, and this choice disappears." />
          </p>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              devSignIn(agency, roles).then(onSession, (err: unknown) => setProblem(String(err)));
            }}
          >
            <label htmlFor="dev-agency">
              <L zh="机构" en="Agency" />
            </label>
            <select id="dev-agency" value={agency} onChange={(e) => setAgency(e.target.value)}>
              {Object.entries(config.agencies).filter(([, a]) => a.active).map(([code, a]) => (
                <option key={code} value={code}>
                  {code} · {a.name} {a.nameEn}
                </option>
              ))}
            </select>
            <fieldset>
              <legend>
                <L zh="角色" en="Roles" />
              </legend>
              {config.roles.map((r) => (
                <label key={r} className="check">
                  <input type="checkbox" checked={roles.includes(r)} onChange={(e) => setRoles(e.target.checked ? [...roles, r] : roles.filter((x) => x !== r))} /> {r}
                </label>
              ))}
            </fieldset>
            <button type="submit">
              <L zh="以此身份登录" en="Sign in as" />
            </button>
          </form>
        </section>
      )}
      {problem !== null && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
    </main>
  );
}

/** A page the signed-in principal has no use for (or no such page): say so, and ask nothing of the exchange. */
function NotHere() {
  return (
    <section className="card" aria-labelledby="not-here">
      <h2 id="not-here">
        <L zh="此页不适用于当前身份" en="This page is not for the signed-in principal" />
      </h2>
      <p>
        <L zh="请从上方选择页面；某些页面仅对特定角色显示（如审计人员、监督机构协调员）。" en="Choose a page above; some pages are shown only to a role (auditors, the authority's coordinators)." />
      </p>
    </section>
  );
}

function Console() {
  const [session, setSession] = useState<Session | null>(loadSession());
  const route = useHash();
  const [page = 'catalog', ...rest] = route.split('/');
  const use = (s: Session | null) => {
    saveSession(s);
    setSession(s);
  };
  // A new page, or signing in or out (which replaces the whole page), starts the keyboard at the
  // content, not past the end of a form that no longer exists.
  const signedIn = session !== null;
  useEffect(() => {
    document.getElementById('main')?.focus();
  }, [page, signedIn]);
  return (
    <>
      <a className="skip" href="#main">
        <L zh="跳到正文" en="Skip to content" />
      </a>
      <header className="top">
        <h1>
          <L zh="政务数据共享交换 控制台" en="Data exchange console" />
        </h1>
        <div className="who">
          {session === null ? (
            <L zh="未登录" en="Not signed in" />
          ) : (
            <>
              <span data-testid="signed-in-as">
                {session.agency} {config.agencies[session.agency]?.name ?? ''}
                {session.roles.length > 0 ? ` [${session.roles.join(', ')}]` : ''}
              </span>{' '}
              <button type="button" onClick={() => use(null)}>
                <L zh="退出" en="Sign out" />
              </button>
            </>
          )}
          <a href="/graphql">
            <L zh="GraphQL 浏览器" en="Explorer" />
          </a>
        </div>
        {config.devKey && (
          <p className="devkey" role="note">
            <L zh="开发密钥在用：仅供试用" en="Development key in use: for trying out only" />
          </p>
        )}
        {session !== null && (
          <nav aria-label="pages">
            <ul>
              {pagesFor(session).map((p) => (
                <li key={p.path}>
                  <a href={`#/${p.path}`} aria-current={page === p.path ? 'page' : undefined}>
                    <L zh={p.zh} en={p.en} />
                  </a>
                </li>
              ))}
            </ul>
          </nav>
        )}
      </header>
      {session === null ? (
        <SignIn onSession={use} />
      ) : (
        <main id="main" tabIndex={-1}>
          {!pagesFor(session).some((p) => p.path === page) ? (
            <NotHere />
          ) : (
            <>
              {page === 'catalog' && rest.length === 0 && <CatalogPage session={session} config={config} />}
              {page === 'catalog' && rest.length > 0 && <DatasetPage session={session} config={config} id={decodeURIComponent(rest.join('/'))} />}
              {page === 'mine' && <MinePage session={session} config={config} />}
              {page === 'inbox' && <InboxPage session={session} config={config} />}
              {page === 'members' && <MembersPage session={session} config={config} />}
              {page === 'proposals' && <ProposalsPage session={session} config={config} />}
              {page === 'versions' && <VersionsPage session={session} config={config} />}
              {page === 'authority' && <AuthorityPage session={session} config={config} />}
              {page === 'audit' && <AuditPage session={session} config={config} />}
              {page === 'policy' && <PolicyPage session={session} config={config} />}
            </>
          )}
        </main>
      )}
    </>
  );
}

createRoot(document.getElementById('root')!).render(<Console />);
