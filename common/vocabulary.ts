import agencies from '../schema/agencies.json' with { type: 'json' };
import purposes from '../schema/purposes.json' with { type: 'json' };

/**
 * The reference members' codes (schema/agencies.json). Who is a member is data on the ledger
 * (ledger/members.ts): nothing on a request's path asks this set; only the console's development
 * sign-in still lists it until the console reads the directory.
 */
export const AGENCY_CODES: ReadonlySet<string> = new Set(Object.keys(agencies));
export const PURPOSE_CODES: ReadonlySet<string> = new Set(Object.keys(purposes));
export const ROLES: ReadonlySet<string> = new Set(['auditor', 'policy-maintainer', 'coordinator']);
