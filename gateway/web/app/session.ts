/** What the gateway tells every page (agencies, purposes, roles, whether the development key is in use). */
export interface PageConfig {
  readonly devKey: boolean;
  /** Every registered member by code; `active` ones may sign in. */
  readonly agencies: Readonly<Record<string, { name: string; nameEn: string; active: boolean }>>;
  readonly purposes: Readonly<Record<string, { name: string; nameEn: string }>>;
  readonly roles: readonly string[];
}

export function pageConfig(): PageConfig {
  const el = document.getElementById('exchange-config');
  return JSON.parse(el?.textContent ?? '{}') as PageConfig;
}

export interface Session {
  readonly token: string;
  /** From the token's claims, for display and for choosing pages; the gateway decides. */
  readonly agency: string;
  readonly roles: readonly string[];
  readonly sub: string;
}

const KEY = 'exchange.session';
const PURPOSE_KEY = 'exchange.purpose';

/** Reads a JWT's claims without verifying it: the gateway verifies on every request. */
export function claimsOf(token: string): Session | null {
  const part = token.trim().split('.')[1];
  if (part === undefined) return null;
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    const claims = JSON.parse(decodeURIComponent(Array.from(json, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join(''))) as { agency?: unknown; roles?: unknown; sub?: unknown };
    if (typeof claims.agency !== 'string') return null;
    const roles = Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === 'string') : [];
    return { token: token.trim(), agency: claims.agency, roles, sub: typeof claims.sub === 'string' ? claims.sub : '' };
  } catch {
    return null;
  }
}

/** The session lives in this tab only (sessionStorage): closing the tab signs out. */
export function loadSession(): Session | null {
  const t = sessionStorage.getItem(KEY);
  return t === null ? null : claimsOf(t);
}

export function saveSession(s: Session | null): void {
  if (s === null) sessionStorage.removeItem(KEY);
  else sessionStorage.setItem(KEY, s.token);
}

export function loadPurpose(): string {
  return sessionStorage.getItem(PURPOSE_KEY) ?? '';
}

export function savePurpose(p: string): void {
  sessionStorage.setItem(PURPOSE_KEY, p);
}

/** Asks the gateway for a development token (only while it uses its development key). */
export async function devSignIn(agency: string, roles: readonly string[]): Promise<Session> {
  const res = await fetch('/console/dev-token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agency, roles }) });
  const body = (await res.json()) as { token?: string; errors?: { message: string }[] };
  if (!res.ok || body.token === undefined) throw new Error(body.errors?.[0]?.message ?? `sign-in refused (HTTP ${res.status})`);
  const s = claimsOf(body.token);
  if (s === null) throw new Error('the gateway returned a token without an agency');
  return s;
}

export interface GraphQLError {
  readonly message: string;
  readonly path?: readonly (string | number)[];
  readonly extensions?: {
    readonly code?: string;
    readonly argument?: string;
    readonly sharing?: { coordinate?: string; dataset?: string; provider?: string; class?: string; reason?: string; remedy?: string };
  };
}

export interface GraphQLResult<T> {
  readonly data: T | null;
  readonly errors: readonly GraphQLError[];
  readonly status: number;
}

/** One GraphQL request to the exchange, as the signed-in principal, with an optional purpose. */
export async function gql<T>(session: Session | null, query: string, variables: Record<string, unknown> = {}, purpose = ''): Promise<GraphQLResult<T>> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' };
  if (session !== null) headers['authorization'] = `Bearer ${session.token}`;
  if (purpose !== '') headers['x-purpose'] = purpose;
  const res = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  let body: { data?: T | null; errors?: GraphQLError[] };
  try {
    body = (await res.json()) as typeof body;
  } catch {
    body = { errors: [{ message: `the exchange answered HTTP ${res.status} without JSON` }] };
  }
  return { data: body.data ?? null, errors: body.errors ?? [], status: res.status };
}
