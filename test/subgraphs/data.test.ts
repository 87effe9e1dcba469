import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Kind, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { amrEnterprises, generateAmr } from '../../subgraphs/amr/data.ts';
import { civilPersons } from '../../subgraphs/civil/data.ts';
import { eebEnterprises } from '../../subgraphs/eeb/data.ts';
import { EMISSION_TOTALS } from '../../subgraphs/exchange/data.ts';
import { hrssEnterprises, hrssPersons } from '../../subgraphs/hrss/data.ts';
import { psbPersons } from '../../subgraphs/psb/data.ts';
import { checkIdNumber, checkUscc } from '../../common/codes.ts';
import { ENTERPRISE_KEYS, PERSON_KEYS, personFacts, REFERENCE_ENTERPRISES, REFERENCE_PERSON, YEARS } from '../../subgraphs/kit/synthetic.ts';
import { taxEnterprises } from '../../subgraphs/tax/data.ts';
import { ROOT } from '../helpers/root.ts';

/** The data fields an agency's schema declares on a type (key and arguments-taking fields noted). */
function schemaFields(agency: string, type: string): { name: string; byYear: boolean }[] {
  const doc = parse(readFileSync(path.join(ROOT, 'subgraphs', agency, 'schema.graphql'), 'utf8'));
  for (const d of doc.definitions) {
    if (d.kind === Kind.OBJECT_TYPE_DEFINITION && d.name.value === type) {
      return (d.fields ?? []).filter((f) => f.name.value !== 'uscc' && f.name.value !== 'idNumber').map((f) => ({ name: f.name.value, byYear: (f.arguments ?? []).some((a) => a.name.value === 'year') }));
    }
  }
  return [];
}

describe('the reference data', () => {
  it('has at least 200 enterprises and 200 persons, every key with a valid check character', () => {
    expect(ENTERPRISE_KEYS.length).toBeGreaterThanOrEqual(200);
    expect(PERSON_KEYS.length).toBeGreaterThanOrEqual(200);
    for (const k of ENTERPRISE_KEYS) expect(checkUscc(k), k).toBeNull();
    for (const k of PERSON_KEYS) expect(checkIdNumber(k), k).toBeNull();
    expect(ENTERPRISE_KEYS.slice(0, 3)).toEqual([...REFERENCE_ENTERPRISES]);
    expect(PERSON_KEYS[0]).toBe(REFERENCE_PERSON);
  });

  it.each([
    ['amr', 'Enterprise', amrEnterprises, REFERENCE_ENTERPRISES],
    ['tax', 'Enterprise', taxEnterprises, REFERENCE_ENTERPRISES],
    ['hrss', 'Enterprise', hrssEnterprises, REFERENCE_ENTERPRISES],
    ['eeb', 'Enterprise', eebEnterprises, REFERENCE_ENTERPRISES],
    ['hrss', 'Person', hrssPersons, [REFERENCE_PERSON]],
    ['psb', 'Person', psbPersons, [REFERENCE_PERSON]],
    ['civil', 'Person', civilPersons, [REFERENCE_PERSON]],
  ] as const)('%s gives every reference %s a value in every schema field (years 2023-2025 too)', (agency, type, table, keys) => {
    const fields = schemaFields(agency, type);
    expect(fields.length).toBeGreaterThan(0);
    for (const key of keys) {
      const row = table.get(key) as Record<string, unknown> | undefined;
      expect(row, `${agency} ${key}`).toBeDefined();
      for (const f of fields) {
        if (f.byYear) {
          const byYear = row![`${f.name}ByYear`] as Record<number, unknown>;
          for (const y of YEARS) expect(byYear[y], `${agency} ${key} ${f.name}(${y})`).toBeDefined();
        } else {
          expect(row![f.name], `${agency} ${key} ${f.name}`).not.toBeNull();
          expect(row![f.name], `${agency} ${key} ${f.name}`).toBeDefined();
        }
      }
    }
  });

  it('is the same on every generation', () => {
    expect(generateAmr()).toEqual(generateAmr());
  });

  it('writes gender and birth date as the ID number says', () => {
    for (const k of PERSON_KEYS) {
      const p = psbPersons.get(k)!;
      expect({ gender: p.gender, birthDate: p.birthDate }).toEqual(personFacts(k));
    }
  });

  it('makes each city total the sum of its divisions', () => {
    for (const year of [2024, 2025, 2026]) {
      const city = EMISSION_TOTALS.find((t) => t.year === year && t.region === '445200')!;
      const parts = EMISSION_TOTALS.filter((t) => t.year === year && t.region !== '445200');
      expect(city.cod).toBeCloseTo(parts.reduce((s, t) => s + t.cod, 0), 1);
    }
  });
});
