import agencies from '../../../schema/agencies.json' with { type: 'json' };
import type { MemberNames } from './compose-proposal.ts';

/** What the registry needs of the members: who may propose, and whom a subgraph may name as a provider. */
export interface RegistryMembers {
  isActive(code: string): boolean;
  /** Every member a subgraph may declare datasets of, with the names field descriptions give it. */
  names(): MemberNames;
}

/** The reference agencies, all active: what the registry knows of members until the members' directory is wired in. */
export const REFERENCE_MEMBERS: RegistryMembers = { isActive: (code) => Object.hasOwn(agencies, code), names: () => agencies };
