/**
 * Check characters of the two identifiers every agency keys its data by. Pure functions shared
 * by the subgraphs' scalars and the gateway's argument check.
 */

// GB 32100-2015: 31 characters (no I, O, S, V, Z), weights 3^(i) mod 31.
const USCC_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] as const;
const USCC_SHAPE = /^[0-9A-HJ-NP-RTUWXY]{2}\d{6}[0-9A-HJ-NP-RTUWXY]{10}$/;

/** The check character for the first 17 characters of a USCC, or null if they are malformed. */
export function usccCheckChar(first17: string): string | null {
  if (first17.length !== 17) return null;
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const v = USCC_CHARS.indexOf(first17[i]!);
    if (v < 0) return null;
    sum += v * USCC_WEIGHTS[i]!;
  }
  return USCC_CHARS[(31 - (sum % 31)) % 31]!;
}

export type CodeProblem = 'length' | 'characters' | 'check character' | 'birth date';

export function checkUscc(value: string): CodeProblem | null {
  if (value.length !== 18) return 'length';
  if (!USCC_SHAPE.test(value)) return 'characters';
  return usccCheckChar(value.slice(0, 17)) === value[17] ? null : 'check character';
}

// GB 11643-1999: MOD 11-2.
const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const ID_CHECK = '10X98765432';

export function idCheckChar(first17: string): string | null {
  if (!/^\d{17}$/.test(first17)) return null;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * ID_WEIGHTS[i]!;
  return ID_CHECK[sum % 11]!;
}

export function checkIdNumber(value: string): CodeProblem | null {
  if (value.length !== 18) return 'length';
  if (!/^\d{17}[\dX]$/.test(value)) return 'characters';
  const y = Number(value.slice(6, 10));
  const m = Number(value.slice(10, 12));
  const d = Number(value.slice(12, 14));
  const date = new Date(Date.UTC(y, m - 1, d));
  if (y < 1900 || date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d || date.getTime() > Date.now()) {
    return 'birth date';
  }
  return idCheckChar(value.slice(0, 17)) === value[17] ? null : 'check character';
}

/** A GB/T 2260 administrative division code: six digits, the first the region of the country (445200 Jieyang). */
export function isDivisionCode(value: string): boolean {
  return /^[1-8]\d{5}$/.test(value);
}
