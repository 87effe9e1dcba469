import { entityTable } from '../kit/table.ts';
import { ENTERPRISE_KEYS, enterpriseActive, enterpriseScale, keyed, picker, REFERENCE_ENTERPRISES, round, YEARS } from '../kit/synthetic.ts';

export interface TaxEnterprise {
  readonly taxpayerStatus: 'GENERAL' | 'SMALL_SCALE' | 'ABNORMAL';
  readonly taxCreditGrade: 'A' | 'B' | 'M' | 'C' | 'D';
  /** CNY per year; `annualTaxPaid(year)` reads it. */
  readonly annualTaxPaidByYear: Readonly<Record<number, number>>;
}

// Roughly the published distribution of 纳税信用等级: many B and M, fewer A, few C and D.
const GRADES = ['A', 'A', 'B', 'B', 'B', 'B', 'M', 'M', 'M', 'C', 'D'] as const;

function generate(uscc: string): TaxEnterprise {
  const random = keyed(0x7a4, uscc);
  const p = picker(random);
  const scale = enterpriseScale(uscc);
  const active = enterpriseActive(uscc);
  const byYear: Record<number, number> = {};
  const base = [2e4, 2e5, 1.5e6, 8e6, 4e7][scale]!;
  const reference = REFERENCE_ENTERPRISES.includes(uscc as (typeof REFERENCE_ENTERPRISES)[number]);
  for (const year of YEARS) {
    if (!reference && !active && year === 2025) continue;
    if (!reference && p.chance(0.05)) continue;
    byYear[year] = round(base * (0.6 + random() * 0.8), 2);
  }
  return {
    taxpayerStatus: !active ? 'ABNORMAL' : scale >= 2 ? 'GENERAL' : 'SMALL_SCALE',
    taxCreditGrade: !active ? 'D' : p.pick(GRADES),
    annualTaxPaidByYear: byYear,
  };
}

export function generateTax(): [string, TaxEnterprise][] {
  return ENTERPRISE_KEYS.map((k) => [k, generate(k)]);
}

export const taxEnterprises = entityTable(generateTax());
