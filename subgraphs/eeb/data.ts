import { entityTable } from '../kit/table.ts';
import { ENTERPRISE_KEYS, enterpriseActive, enterpriseScale, isoDate, keyed, picker, REFERENCE_ENTERPRISES, round, YEARS } from '../kit/synthetic.ts';

export interface Emissions {
  readonly year: number;
  readonly cod: number;
  readonly ammoniaNitrogen: number;
  readonly sulfurDioxide: number;
  readonly nitrogenOxides: number;
}

export interface EebEnterprise {
  readonly dischargePermit: {
    /** 排污许可证编号: the holder's USCC, a 3-digit sequence and P (key/simplified) or X (registration). */
    readonly number: string;
    readonly category: 'KEY' | 'SIMPLIFIED' | 'REGISTRATION';
    readonly issuedOn: string;
    readonly validUntil: string;
  };
  /** Tonnes per year; `emissions(year)` reads it. */
  readonly emissionsByYear: Readonly<Record<number, Emissions>>;
}

function generate(uscc: string): EebEnterprise {
  const random = keyed(0xeeb, uscc);
  const p = picker(random);
  const scale = enterpriseScale(uscc);
  const category = scale >= 3 ? 'KEY' : scale >= 1 ? 'SIMPLIFIED' : 'REGISTRATION';
  const issuedYear = p.int(2019, 2024);
  const month = p.int(1, 12);
  const day = p.int(1, 28);
  // Permits run five years; a registration (登记) has no expiry in practice, shown as five too.
  const validUntil = enterpriseActive(uscc) ? isoDate(issuedYear + 5, month, day) : isoDate(issuedYear + 1, month, day);
  const factor = [0.2, 1, 6, 30, 120][scale]!;
  const byYear: Record<number, Emissions> = {};
  const reference = REFERENCE_ENTERPRISES.includes(uscc as (typeof REFERENCE_ENTERPRISES)[number]);
  for (const year of YEARS) {
    if (!reference && p.chance(0.08)) continue;
    const trend = 1 - (year - 2023) * 0.04;
    byYear[year] = {
      year,
      cod: round(factor * 2.1 * trend * (0.7 + random() * 0.6), 3),
      ammoniaNitrogen: round(factor * 0.18 * trend * (0.7 + random() * 0.6), 3),
      sulfurDioxide: round(factor * 1.4 * trend * (0.7 + random() * 0.6), 3),
      nitrogenOxides: round(factor * 1.9 * trend * (0.7 + random() * 0.6), 3),
    };
  }
  return {
    dischargePermit: {
      number: `${uscc}${String(p.int(1, 3)).padStart(3, '0')}${category === 'REGISTRATION' ? 'X' : 'P'}`,
      category,
      issuedOn: isoDate(issuedYear, month, day),
      validUntil,
    },
    emissionsByYear: byYear,
  };
}

export function generateEeb(): [string, EebEnterprise][] {
  return ENTERPRISE_KEYS.map((k) => [k, generate(k)]);
}

export const eebEnterprises = entityTable(generateEeb());
