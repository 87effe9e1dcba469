import purposes from '../schema/purposes.json' with { type: 'json' };

export const PURPOSE_CODES: ReadonlySet<string> = new Set(Object.keys(purposes));
export const ROLES: ReadonlySet<string> = new Set(['auditor', 'policy-maintainer', 'coordinator']);
