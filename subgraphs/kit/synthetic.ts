import { idCheckChar, usccCheckChar } from '../../common/codes.ts';

/**
 * Deterministic synthetic reference data: the same keys and values on every run, so tests and
 * the README can name them. Nothing here reads the clock or Math.random.
 */

/** mulberry32: a small seeded PRNG, enough for plausible synthetic values. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Pick {
  <T>(items: readonly T[]): T;
}

export function picker(random: () => number): { pick: Pick; int(min: number, max: number): number; chance(p: number): boolean } {
  return {
    pick: <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!,
    int: (min, max) => min + Math.floor(random() * (max - min + 1)),
    chance: (p) => random() < p,
  };
}

/** Jieyang's county-level divisions (GB/T 2260) with the towns and streets used in addresses. */
export interface Division {
  readonly code: string;
  readonly name: string;
  readonly towns: readonly string[];
}

export const CITY = { code: '445200', name: '揭阳市' } as const;

export const DIVISIONS: readonly Division[] = [
  { code: '445202', name: '榕城区', towns: ['榕华街道', '新兴街道', '中山街道', '西马街道', '东兴街道', '仙桥街道'] },
  { code: '445203', name: '揭东区', towns: ['曲溪街道', '磐东街道', '云路镇', '玉窖镇', '锡场镇'] },
  { code: '445222', name: '揭西县', towns: ['河婆街道', '棉湖镇', '钱坑镇', '凤江镇', '金和镇'] },
  { code: '445224', name: '惠来县', towns: ['惠城镇', '葵潭镇', '靖海镇', '神泉镇', '隆江镇'] },
  { code: '445281', name: '普宁市', towns: ['流沙东街道', '流沙西街道', '池尾街道', '占陇镇', '军埠镇', '洪阳镇'] },
];

export function divisionOf(code: string): Division {
  return DIVISIONS.find((d) => d.code === code.slice(0, 6)) ?? DIVISIONS[0]!;
}

const ROADS = ['临江路', '进贤门大道', '望江北路', '黄岐山大道', '环市北路', '揭阳大道', '新河路', '梅云路', '广达路', '国道206线'];

export function address(division: Division, random: () => number): string {
  const p = picker(random);
  return `广东省揭阳市${division.name}${p.pick(division.towns)}${p.pick(ROADS)}${p.int(1, 388)}号`;
}

// The contract names these keys; they lead their lists.
export const REFERENCE_ENTERPRISES = ['91445202MA4W3K7PX2', '91445202315608740C', '914452026981234500'] as const;
export const REFERENCE_PERSON = '445202198503151238';

const USCC_BODY = '0123456789ABCDEFGHJKLMNPQRTUWXY';

function makeEnterpriseKeys(count: number): string[] {
  const random = rng(0x5c0de);
  const p = picker(random);
  const keys: string[] = [...REFERENCE_ENTERPRISES];
  while (keys.length < count) {
    let body = '';
    for (let i = 0; i < 9; i++) body += p.pick(USCC_BODY.split(''));
    const first17 = `91${p.pick(DIVISIONS).code}${body}`;
    const key = first17 + usccCheckChar(first17)!;
    if (!keys.includes(key)) keys.push(key);
  }
  return keys;
}

function makePersonKeys(count: number): string[] {
  const random = rng(0x1d0);
  const p = picker(random);
  const keys: string[] = [REFERENCE_PERSON];
  while (keys.length < count) {
    const year = p.int(1950, 2005);
    const month = p.int(1, 12);
    const day = p.int(1, 28);
    const first17 = `${p.pick(DIVISIONS).code}${year}${String(month).padStart(2, '0')}${String(day).padStart(2, '0')}${String(p.int(0, 999)).padStart(3, '0')}`;
    const key = first17 + idCheckChar(first17)!;
    if (!keys.includes(key)) keys.push(key);
  }
  return keys;
}

export const ENTERPRISE_KEYS: readonly string[] = Object.freeze(makeEnterpriseKeys(240));
export const PERSON_KEYS: readonly string[] = Object.freeze(makePersonKeys(240));

/** Per-key deterministic randomness: each agency derives its values from (its seed, the key). */
export function keyed(seed: number, key: string): () => number {
  let h = seed >>> 0;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return rng(h);
}

/** Birth date (YYYY-MM-DD) and gender written in an ID number (GB 11643). */
export function personFacts(idNumber: string): { birthDate: string; gender: 'MALE' | 'FEMALE' } {
  return {
    birthDate: `${idNumber.slice(6, 10)}-${idNumber.slice(10, 12)}-${idNumber.slice(12, 14)}`,
    gender: Number(idNumber[16]) % 2 === 1 ? 'MALE' : 'FEMALE',
  };
}

export const YEARS = [2023, 2024, 2025] as const;

export function isoDate(year: number, month: number, day: number): string {
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/**
 * How big an enterprise is (0 micro … 4 large), shared by every agency's generator so that
 * capital, headcount, tax and emissions agree with each other.
 */
export function enterpriseScale(uscc: string): number {
  const r = keyed(0x5ca1e, uscc)();
  return r < 0.35 ? 0 : r < 0.65 ? 1 : r < 0.85 ? 2 : r < 0.96 ? 3 : 4;
}

/** Whether the enterprise is still in business (amr's status drives the others). */
export function enterpriseActive(uscc: string): boolean {
  return REFERENCE_ENTERPRISES.includes(uscc as (typeof REFERENCE_ENTERPRISES)[number]) || keyed(0xac71e, uscc)() > 0.08;
}
