import type { Session } from '../session.ts';

/**
 * Which pages, and which of their queries and controls, a signed-in principal gets. A page whose
 * fields the caller's token cannot read would only produce refusals, and each refused read is an
 * access-log denial that the authority's watch counts towards a probing finding; so the console
 * never asks for them. The token's claims decide only what is shown: the exchange still checks
 * every request.
 */

/** The authority that runs the exchange. */
export const AUTHORITY = 'itd';

const has = (s: Session, role: string): boolean => s.roles.includes(role);

/** A coordinator of the authority: decides, registers members, approves proposals, rolls back. */
export const isCoordinator = (s: Session): boolean => s.agency === AUTHORITY && has(s, 'coordinator');
/** Reads the access log and the policy history (the audit-log dataset is reserved to the role). */
export const isAuditor = (s: Session): boolean => has(s, 'auditor');
/** Asks why a decision was made (explainDecision: policy maintainers and auditors). */
export const canExplain = (s: Session): boolean => has(s, 'policy-maintainer') || has(s, 'auditor');

export interface PageEntry {
  readonly path: string;
  readonly zh: string;
  readonly en: string;
  readonly shown: (s: Session) => boolean;
}

const everyone = (): boolean => true;

export const PAGES: readonly PageEntry[] = [
  { path: 'catalog', zh: '共享目录', en: 'Catalog', shown: everyone },
  { path: 'mine', zh: '我的申请与授权', en: 'My requests and grants', shown: everyone },
  { path: 'inbox', zh: '待办', en: 'Inbox', shown: everyone },
  { path: 'members', zh: '成员', en: 'Members', shown: everyone },
  { path: 'proposals', zh: '子图提议', en: 'Proposals', shown: everyone },
  { path: 'versions', zh: '超图版本', en: 'Versions', shown: everyone },
  { path: 'authority', zh: '监督管理', en: 'Authority', shown: (s) => s.agency === AUTHORITY && (isCoordinator(s) || isAuditor(s)) },
  { path: 'audit', zh: '审计', en: 'Audit', shown: isAuditor },
  { path: 'policy', zh: '策略解释', en: 'Policy', shown: canExplain },
];

export function pagesFor(s: Session): readonly PageEntry[] {
  return PAGES.filter((p) => p.shown(s));
}
