import { entityTable } from '../kit/table.ts';
import { keyed, PERSON_KEYS, picker } from '../kit/synthetic.ts';

export interface CivilPerson {
  readonly maritalStatus: 'UNMARRIED' | 'MARRIED' | 'DIVORCED' | 'WIDOWED';
}

function generate(idNumber: string): CivilPerson {
  const p = picker(keyed(0xc1f1, idNumber));
  const age = 2025 - Number(idNumber.slice(6, 10));
  if (age < 22) return { maritalStatus: 'UNMARRIED' };
  const r = p.int(1, 100);
  return { maritalStatus: r <= 72 ? 'MARRIED' : r <= 84 ? 'UNMARRIED' : r <= 94 ? 'DIVORCED' : 'WIDOWED' };
}

export function generateCivil(): [string, CivilPerson][] {
  return PERSON_KEYS.map((k) => [k, generate(k)]);
}

export const civilPersons = entityTable(generateCivil());
