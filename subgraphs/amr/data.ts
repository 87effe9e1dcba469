import { entityTable } from '../kit/table.ts';
import { address, divisionOf, ENTERPRISE_KEYS, enterpriseActive, enterpriseScale, isoDate, keyed, picker } from '../kit/synthetic.ts';

export interface AmrEnterprise {
  readonly name: string;
  readonly legalRepresentative: string;
  /** 万元 */
  readonly registeredCapital: number;
  readonly establishedOn: string;
  readonly address: string;
  readonly status: 'ACTIVE' | 'REVOKED' | 'DEREGISTERED';
}

const SURNAMES = ['陈', '林', '黄', '郑', '吴', '李', '许', '蔡', '杨', '王', '张', '刘', '谢', '洪', '方'];
const GIVEN = ['志强', '伟明', '少华', '丽娟', '建国', '晓东', '泽鹏', '佳欣', '锐彬', '秀英', '俊杰', '文辉', '楚生', '海燕'];
const TRADE_NAMES = ['宏达', '永盛', '金鼎', '华辉', '联兴', '锦发', '恒泰', '鸿运', '正和', '捷顺', '远洋', '新美', '佳利', '信达'];
// Jieyang's industries: stainless steel and hardware, textiles, plastics, pharmaceuticals, food, jade.
const INDUSTRIES = ['五金不锈钢制品', '纺织服装', '塑料制品', '医药', '食品', '玉器工艺', '鞋业', '电子科技', '新材料'];
const CAPITAL = [[10, 100], [100, 500], [500, 3000], [3000, 20000], [20000, 100000]] as const;

export function personName(random: () => number): string {
  const p = picker(random);
  return p.pick(SURNAMES) + p.pick(GIVEN);
}

function generate(uscc: string): AmrEnterprise {
  const random = keyed(0xa3a, uscc);
  const p = picker(random);
  const division = divisionOf(uscc.slice(2, 8));
  const scale = enterpriseScale(uscc);
  const [lo, hi] = CAPITAL[scale]!;
  const place = division.name.replace(/[区县市]$/, '');
  const active = enterpriseActive(uscc);
  return {
    name: `揭阳市${place}${p.pick(TRADE_NAMES)}${p.pick(INDUSTRIES)}有限公司`,
    legalRepresentative: personName(random),
    registeredCapital: p.int(lo, hi),
    establishedOn: isoDate(p.int(1993, 2022), p.int(1, 12), p.int(1, 28)),
    address: address(division, random),
    status: active ? 'ACTIVE' : p.pick(['REVOKED', 'DEREGISTERED'] as const),
  };
}

export function generateAmr(): [string, AmrEnterprise][] {
  return ENTERPRISE_KEYS.map((k) => [k, generate(k)]);
}

export const amrEnterprises = entityTable(generateAmr());
