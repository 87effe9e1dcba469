import { CITY, DIVISIONS, keyed, round } from '../kit/synthetic.ts';

/** Annual pollutant totals of a division, tonnes, as eeb submits them for confirmation (R-E11). */
export interface EmissionTotals {
  readonly year: number;
  readonly region: string;
  readonly regionName: string;
  readonly cod: number;
  readonly ammoniaNitrogen: number;
  readonly sulfurDioxide: number;
  readonly nitrogenOxides: number;
}

export const TOTALS_YEARS = [2024, 2025, 2026] as const;
const POLLUTANTS = ['cod', 'ammoniaNitrogen', 'sulfurDioxide', 'nitrogenOxides'] as const;
const BASE = { cod: 9000, ammoniaNitrogen: 900, sulfurDioxide: 4200, nitrogenOxides: 7800 } as const;

function generate(): EmissionTotals[] {
  const totals: EmissionTotals[] = [];
  for (const year of TOTALS_YEARS) {
    const city = { cod: 0, ammoniaNitrogen: 0, sulfurDioxide: 0, nitrogenOxides: 0 };
    for (const d of DIVISIONS) {
      const random = keyed(0x70a1 + year, d.code);
      const row = { year, region: d.code, regionName: d.name, cod: 0, ammoniaNitrogen: 0, sulfurDioxide: 0, nitrogenOxides: 0 };
      for (const k of POLLUTANTS) {
        // Each division a share of the city, falling about 3 % a year (the reduction targets).
        row[k] = round((BASE[k] / DIVISIONS.length) * (0.6 + random() * 0.8) * (1 - (year - 2024) * 0.03), 1);
        city[k] = round(city[k] + row[k], 1);
      }
      totals.push(row);
    }
    totals.push({ year, region: CITY.code, regionName: CITY.name, ...city });
  }
  return totals;
}

export const EMISSION_TOTALS: readonly EmissionTotals[] = Object.freeze(generate());

/** The departments whose confirmation publishes totals (R-E11). */
export const CONFIRMING_AGENCIES = ['eeb', 'drc', 'stats'] as const;

/** Seed: 2024 and 2025 confirmed by all three for every division; 2026 by nobody yet. */
export const SEED_CONFIRMATIONS: readonly { year: number; region: string; agency: string; confirmedOn: string }[] = Object.freeze(
  EMISSION_TOTALS.filter((t) => t.year < 2026).flatMap((t) =>
    CONFIRMING_AGENCIES.map((agency, i) => ({ year: t.year, region: t.region, agency, confirmedOn: `${t.year + 1}-03-${String(10 + i * 5).padStart(2, '0')}` })),
  ),
);
