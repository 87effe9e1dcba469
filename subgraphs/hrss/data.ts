import { entityTable } from '../kit/table.ts';
import { ENTERPRISE_KEYS, enterpriseActive, enterpriseScale, keyed, PERSON_KEYS, picker } from '../kit/synthetic.ts';

export interface HrssEnterprise {
  readonly insuredEmployees: number;
}

export interface HrssPerson {
  readonly pensionInsurance: {
    readonly status: 'CONTRIBUTING' | 'SUSPENDED' | 'RECEIVING';
    readonly insuredSince: string;
    readonly contributionMonths: number;
    readonly employerUscc: string | null;
  };
}

const HEADCOUNT = [[1, 9], [10, 49], [50, 299], [300, 999], [1000, 5000]] as const;

function enterprise(uscc: string): HrssEnterprise {
  const p = picker(keyed(0x4455, uscc));
  const [lo, hi] = HEADCOUNT[enterpriseScale(uscc)]!;
  return { insuredEmployees: enterpriseActive(uscc) ? p.int(lo, hi) : 0 };
}

// Months from YYYY-MM to the end of 2025, the data's reference date.
function monthsSince(year: number, month: number): number {
  return (2025 - year) * 12 + (12 - month) + 1;
}

function person(idNumber: string): HrssPerson {
  const random = keyed(0x9e45, idNumber);
  const p = picker(random);
  const birthYear = Number(idNumber.slice(6, 10));
  const startYear = Math.min(2025, Math.max(1992, birthYear + p.int(18, 26)));
  const startMonth = p.int(1, 12);
  const months = monthsSince(startYear, startMonth);
  const retired = 2025 - birthYear >= 60;
  const status = retired ? 'RECEIVING' : p.chance(0.1) ? 'SUSPENDED' : 'CONTRIBUTING';
  return {
    pensionInsurance: {
      status,
      insuredSince: `${startYear}-${String(startMonth).padStart(2, '0')}`,
      contributionMonths: status === 'SUSPENDED' ? Math.max(1, months - p.int(1, 24)) : months,
      employerUscc: status === 'CONTRIBUTING' ? p.pick(ENTERPRISE_KEYS) : null,
    },
  };
}

export function generateHrss(): { enterprises: [string, HrssEnterprise][]; persons: [string, HrssPerson][] } {
  return {
    enterprises: ENTERPRISE_KEYS.map((k) => [k, enterprise(k)]),
    persons: PERSON_KEYS.map((k) => [k, person(k)]),
  };
}

const generated = generateHrss();
export const hrssEnterprises = entityTable(generated.enterprises);
export const hrssPersons = entityTable(generated.persons);
