import { personName } from '../amr/data.ts';
import { entityTable } from '../kit/table.ts';
import { address, divisionOf, isoDate, keyed, PERSON_KEYS, personFacts, picker, REFERENCE_PERSON } from '../kit/synthetic.ts';

export interface PsbPerson {
  readonly name: string;
  readonly gender: 'MALE' | 'FEMALE';
  readonly birthDate: string;
  readonly householdAddress: string;
  readonly criminalRecord: { readonly hasRecord: boolean; readonly convictions: number; readonly lastDecidedOn: string | null };
  readonly secretPost: { readonly level: 'CORE' | 'IMPORTANT' | 'GENERAL'; readonly since: string } | null;
}

function generate(idNumber: string): PsbPerson {
  const random = keyed(0x95b, idNumber);
  const p = picker(random);
  const facts = personFacts(idNumber);
  // The reference person has a record so every field shows a value; most people have none.
  const convictions = idNumber === REFERENCE_PERSON ? 1 : p.chance(0.04) ? p.int(1, 2) : 0;
  const older = {
    name: personName(random),
    gender: facts.gender,
    birthDate: facts.birthDate,
    householdAddress: address(divisionOf(idNumber), random),
    criminalRecord: { hasRecord: convictions > 0, convictions, lastDecidedOn: convictions > 0 ? isoDate(p.int(2008, 2024), p.int(1, 12), p.int(1, 28)) : null },
  };
  // Drawn after the older fields, so their values stay what they were. The reference person holds a post.
  const post = p.chance(0.02) || idNumber === REFERENCE_PERSON;
  return { ...older, secretPost: post ? { level: p.pick(['CORE', 'IMPORTANT', 'GENERAL'] as const), since: isoDate(p.int(2010, 2025), p.int(1, 12), p.int(1, 28)) } : null };
}

export function generatePsb(): [string, PsbPerson][] {
  return PERSON_KEYS.map((k) => [k, generate(k)]);
}

export const psbPersons = entityTable(generatePsb());
