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

/**
 * The registry's view of the members' directory: only active members propose, but every member
 * ever registered may stay named as a provider, so that a retired member's subgraph still in a
 * version does not make every later proposal fail to compose.
 */
export function registryMembersOf(directory: { isActive(code: string): boolean; list(): readonly { readonly code: string; readonly name: string; readonly nameEn: string }[] }): RegistryMembers {
  return {
    isActive: (code) => directory.isActive(code),
    names: () => Object.fromEntries(directory.list().map((m) => [m.code, { name: m.name, nameEn: m.nameEn }])),
  };
}
