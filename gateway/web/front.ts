import type { IncomingMessage } from 'node:http';
import purposes from '../../schema/purposes.json' with { type: 'json' };
import { BodyTooLargeError, readBody } from '../../common/http.ts';
import { ROLES } from '../../common/vocabulary.ts';
import { refuse, type RefusalTarget } from '../http/refusal.ts';
import type { Logger } from '../log.ts';
import { buildWebAssets, type Asset } from './build.ts';

/**
 * Nothing a page loads may come from another host (docs/console.md): scripts, styles, fonts and
 * requests are limited to the exchange itself. GraphiQL sets inline styles, and its fonts and
 * icons are data: URLs inside its stylesheet.
 */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; font-src 'self' data:; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** A dev token lives this long: enough to try the console, short enough to be no credential. */
const DEV_TOKEN_TTL_SECONDS = 3600;

/** The members as the pages need them: names to show, and who may sign in. */
export interface MemberNames {
  list(): readonly { readonly code: string; readonly name: string; readonly nameEn: string; readonly status: string }[];
  isActive(code: string): boolean;
  /** Resolves once every member step recorded so far is folded. */
  sync(): Promise<void>;
}

export interface WebFrontOptions {
  /** Mints a token, only while the development key is in use; null otherwise. */
  readonly devToken: ((agency: string, roles: readonly string[]) => string) | null;
  /** The live member directory: a member registered, suspended or retired shows in the next page load. */
  readonly members: MemberNames;
  readonly log: Logger;
}

export interface WebFront {
  /** Serves the explorer, the console, their assets and the development sign-in; false when the route is not one of them. */
  handle(req: IncomingMessage, target: RefusalTarget, path: string): Promise<boolean>;
  /** Starts building the bundles now, so the first page load does not wait for it. */
  warm(): void;
}

/** A browser navigating to a URL asks for HTML; GraphQL clients ask for JSON. */
export function prefersHtml(accept: string | undefined): boolean {
  return accept !== undefined && /(^|,)\s*text\/html\s*(;|,|$)/i.test(accept);
}

function page(title: string, script: string, devKey: boolean, members: MemberNames): string {
  // Every member ever registered, so that a retired one's name still shows in the records that
  // name it; only active ones are offered to sign in as.
  const agencies = Object.fromEntries(members.list().map((m) => [m.code, { name: m.name, nameEn: m.nameEn, active: m.status === 'ACTIVE' }]));
  // JSON inside <script>: "<" escaped so no value can close the element.
  const config = JSON.stringify({ devKey, agencies, purposes, roles: [...ROLES] }).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/${script}.css">
</head>
<body>
<div id="root"></div>
<script id="exchange-config" type="application/json">${config}</script>
<script type="module" src="/assets/${script}.js"></script>
</body>
</html>
`;
}

export function webFront(opts: WebFrontOptions): WebFront {
  let assets: Promise<Map<string, Asset>> | null = null;
  const load = (): Promise<Map<string, Asset>> => {
    assets ??= buildWebAssets().catch((e: unknown) => {
      assets = null;
      throw e;
    });
    return assets;
  };
  const devKey = opts.devToken !== null;
  // Made at each load: the member list changes at run time.
  const pages = {
    explorer: () => page('GraphQL 浏览器 · Explorer — 政务数据共享交换 Data exchange', 'explorer', devKey, opts.members),
    console: () => page('控制台 · Console — 政务数据共享交换 Data exchange', 'console', devKey, opts.members),
  };

  const sendPage = (target: RefusalTarget, html: string): void => {
    target.res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': CSP, 'x-content-type-options': 'nosniff', 'cache-control': 'no-cache', 'referrer-policy': 'no-referrer' });
    target.res.end(html);
  };

  return {
    warm() {
      load().catch((e: unknown) => opts.log.error('building the console and explorer failed', e));
    },
    async handle(req, target, path) {
      const method = req.method ?? 'GET';
      if (path === '/graphql' && method === 'GET' && prefersHtml(req.headers.accept)) {
        req.resume();
        // Built before the page is sent, so its scripts are there when the browser asks.
        await load();
        await opts.members.sync();
        sendPage(target, pages.explorer());
        return true;
      }
      if ((path === '/console' || path === '/console/') && method === 'GET') {
        req.resume();
        await load();
        // A member registered or retired a moment ago, on this gateway or another, is in the list.
        await opts.members.sync();
        sendPage(target, pages.console());
        return true;
      }
      if (path.startsWith('/assets/') && method === 'GET') {
        req.resume();
        const asset = (await load()).get(path.slice('/assets/'.length));
        if (asset === undefined) {
          refuse(target, 'NOT_FOUND', `No asset ${path.slice(0, 200)}.`);
          return true;
        }
        target.res.writeHead(200, { 'content-type': asset.type, 'content-length': String(asset.body.length), 'x-content-type-options': 'nosniff', 'cache-control': 'no-cache' });
        target.res.end(asset.body);
        return true;
      }
      if (path === '/console/dev-token' && method === 'POST') {
        await devSignIn(req, target);
        return true;
      }
      return false;
    },
  };

  async function devSignIn(req: IncomingMessage, target: RefusalTarget): Promise<void> {
    if (opts.devToken === null) {
      req.resume();
      refuse(target, 'NOT_FOUND', 'No route /console/dev-token: signing in as any agency exists only while the gateway uses its development key.');
      return;
    }
    // Only from this machine: the development key is for trying the exchange out, not for a network.
    const remote = req.socket.remoteAddress ?? '';
    if (!['127.0.0.1', '::1', '::ffff:127.0.0.1'].includes(remote)) {
      req.resume();
      refuse(target, 'NOT_FOUND', 'No route /console/dev-token from another machine: the development sign-in answers only on this machine.');
      return;
    }
    // DNS rebinding: a foreign page whose name now resolves to 127.0.0.1 connects from loopback,
    // but its browser still sends the foreign name as Host (and Origin).
    const origin = req.headers.origin;
    if (!isLoopbackHost(req.headers.host) || (origin !== undefined && !isLoopbackOrigin(origin))) {
      req.resume();
      refuse(target, 'NOT_FOUND', 'No route /console/dev-token for this Host or Origin: the development sign-in answers only to 127.0.0.1, localhost or [::1].');
      return;
    }
    // A JSON body makes a cross-site page's request a preflighted one, which this route never answers.
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      req.resume();
      refuse(target, 'BAD_USER_INPUT', 'The development sign-in takes a JSON body {"agency": "...", "roles": [...]}.');
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req, 4096));
    } catch (e) {
      refuse(target, 'BAD_USER_INPUT', e instanceof BodyTooLargeError ? 'The development sign-in body is too large.' : 'The development sign-in body is not JSON.');
      return;
    }
    const { agency, roles } = (typeof body === 'object' && body !== null ? body : {}) as { agency?: unknown; roles?: unknown };
    await opts.members.sync();
    if (typeof agency !== 'string' || !opts.members.isActive(agency)) {
      const active = opts.members.list().filter((m) => m.status === 'ACTIVE').map((m) => m.code);
      refuse(target, 'BAD_USER_INPUT', `agency must be an active member: one of ${active.join(', ')}.`, { argument: 'agency' });
      return;
    }
    const list = roles ?? [];
    if (!Array.isArray(list) || !list.every((r): r is string => typeof r === 'string' && ROLES.has(r))) {
      refuse(target, 'BAD_USER_INPUT', `roles must be a list of ${[...ROLES].join(', ')}.`, { argument: 'roles' });
      return;
    }
    const token = opts.devToken(agency, list);
    const text = JSON.stringify({ token, agency, roles: list, expiresInSeconds: DEV_TOKEN_TTL_SECONDS });
    target.res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    target.res.end(text);
  }
}

export { DEV_TOKEN_TTL_SECONDS };

const LOOPBACK_NAMES: ReadonlySet<string> = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** A Host header naming this machine's loopback interface, with or without a port. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  const match = /^(\[::1\]|[A-Za-z0-9.-]+)(?::([0-9]{1,5}))?$/.exec(host.trim());
  return match !== null && LOOPBACK_NAMES.has(match[1]!.toLowerCase());
}

/** An Origin header of a page served from the loopback interface over http or https. */
export function isLoopbackOrigin(origin: string): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.pathname === '/' && isLoopbackHost(url.host);
}
