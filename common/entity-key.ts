import { checkIdNumber, checkUscc } from './codes.ts';

/**
 * The one spelling of an entity key in decisions, records and look-ups. The subgraphs' scalars
 * accept a USCC or ID number in either case, so a record must not keep the caller's spelling: a
 * read made in lower case would then hide from every search by the upper-case key. Keys of other
 * shapes (another entity's key field) are kept as they are.
 */
export function normalisedEntityKey(key: string): string {
  const upper = key.toUpperCase();
  if (upper === key) return key;
  return checkUscc(upper) === null || checkIdNumber(upper) === null ? upper : key;
}

/** The keys in their one spelling, each once, in first-seen order. */
export function normalisedEntityKeys(keys: readonly string[]): string[] {
  const out = new Set<string>();
  for (const k of keys) out.add(normalisedEntityKey(k));
  return [...out];
}
