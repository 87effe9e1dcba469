import agencies from '../schema/agencies.json' with { type: 'json' };
import purposes from '../schema/purposes.json' with { type: 'json' };

export const AGENCY_CODES: ReadonlySet<string> = new Set(Object.keys(agencies));
export const PURPOSE_CODES: ReadonlySet<string> = new Set(Object.keys(purposes));
export const ROLES: ReadonlySet<string> = new Set(['auditor', 'policy-maintainer', 'coordinator']);
