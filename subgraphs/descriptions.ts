import { Kind, visit, type ConstDirectiveNode, type DocumentNode, type FieldDefinitionNode, type StringValueNode } from 'graphql';
import agencies from '../schema/agencies.json' with { type: 'json' };
import datasets from '../schema/catalog/datasets.json' with { type: 'json' };
import purposes from '../schema/purposes.json' with { type: 'json' };
import type { Sensitivity, SharingClass } from '../common/declarations.ts';

/**
 * Field descriptions generated at composition from the `@dataset` declarations and the catalog
 * (docs/developers.md): what a developer sees in introspection says, in Chinese and English, which
 * dataset a field belongs to, its provider, class, sensitivity and catalogued purposes. Generated
 * from the same declarations the gateway decides with, so the two cannot drift; a hand-written
 * description is kept above the generated lines.
 */
export interface CatalogEntry {
  readonly name: string;
  readonly nameEn: string;
  readonly purposes: readonly string[];
}

export interface DescriptionSources {
  readonly datasets: Readonly<Record<string, CatalogEntry>>;
  readonly purposes: Readonly<Record<string, { readonly name: string; readonly nameEn: string }>>;
  readonly agencies: Readonly<Record<string, { readonly name: string; readonly nameEn: string }>>;
}

export const REFERENCE_SOURCES: DescriptionSources = { datasets, purposes, agencies };

const CLASS_ZH: Record<SharingClass, string> = { UNCONDITIONAL: '无条件共享', CONDITIONAL: '有条件共享', NOT_SHARED: '不予共享' };
const SENSITIVITY_ZH: Record<Sensitivity, string> = { PERSONAL: '个人隐私', COMMERCIAL: '商业秘密', STATE_SECRET: '国家秘密' };

export const KEY_FIELD_LINES = ['实体键：始终可读，不属于任何数据集。', 'Entity key: always readable; belongs to no dataset.'] as const;
export const UNCATALOGUED_LINES = [
  '未编目：不属于任何目录数据集，网关拒绝读取（NOT_CATALOGUED）。',
  'Not catalogued: belongs to no dataset of the catalog; the gateway denies reading it (NOT_CATALOGUED).',
] as const;

function arg(d: ConstDirectiveNode, name: string): string | null {
  const v = d.arguments?.find((a) => a.name.value === name)?.value;
  return v?.kind === Kind.STRING ? v.value : null;
}

/** The two generated lines (Chinese, English) for a field of a dataset. */
export function datasetLines(id: string, cls: SharingClass, sensitivity: Sensitivity | null, src: DescriptionSources): [string, string] {
  const entry = src.datasets[id];
  const provider = id.slice(0, id.indexOf('.'));
  const agency = src.agencies[provider];
  const listed = entry?.purposes ?? [];
  let purposesZh: string;
  let purposesEn: string;
  if (cls === 'NOT_SHARED') {
    purposesZh = '无（仅提供方可读）';
    purposesEn = 'none (the provider only)';
  } else if (cls === 'UNCONDITIONAL') {
    purposesZh = '无需声明用途';
    purposesEn = 'none needed';
  } else if (listed.length === 0) {
    purposesZh = '目录未列出';
    purposesEn = 'none listed in the catalog';
  } else {
    purposesZh = listed.map((p) => `${p}（${src.purposes[p]?.name ?? p}）`).join('、');
    purposesEn = listed.map((p) => `${p} (${src.purposes[p]?.nameEn ?? p})`).join(', ');
  }
  const zh = `数据集：${id}${entry ? `（${entry.name}）` : ''}；提供方：${provider}${agency ? `（${agency.name}）` : ''}；共享类型：${CLASS_ZH[cls]}；敏感级别：${sensitivity === null ? '无' : SENSITIVITY_ZH[sensitivity]}；目录用途：${purposesZh}。`;
  const en = `Dataset: ${id}${entry ? ` (${entry.nameEn})` : ''}; provider: ${provider}${agency ? ` (${agency.nameEn})` : ''}; class: ${cls}; sensitivity: ${sensitivity ?? 'none'}; catalogued purposes: ${purposesEn}.`;
  return [zh, en];
}

function keyFieldsOf(directives: readonly ConstDirectiveNode[] | undefined): string[] {
  return (directives ?? []).filter((d) => d.name.value === 'key').flatMap((d) => (arg(d, 'fields') ?? '').split(/[\s,{}]+/).filter((f) => f !== ''));
}

function describe(field: FieldDefinitionNode, lines: readonly string[]): FieldDefinitionNode {
  const own = field.description?.value.trim();
  const value = [...(own ? [own] : []), ...lines].join('\n');
  const description: StringValueNode = { kind: Kind.STRING, value, block: true };
  return { ...field, description };
}

/**
 * A subgraph document with every field of its object and interface types described. The
 * declaration itself is not checked here: composition's own checks report a bad one.
 */
export function describeFields(doc: DocumentNode, src: DescriptionSources = REFERENCE_SOURCES): DocumentNode {
  const keys = new Map<string, Set<string>>();
  for (const def of doc.definitions) {
    if (def.kind === Kind.OBJECT_TYPE_DEFINITION || def.kind === Kind.OBJECT_TYPE_EXTENSION || def.kind === Kind.INTERFACE_TYPE_DEFINITION || def.kind === Kind.INTERFACE_TYPE_EXTENSION) {
      const set = keys.get(def.name.value) ?? new Set<string>();
      for (const k of keyFieldsOf(def.directives)) set.add(k);
      keys.set(def.name.value, set);
    }
  }
  const fields = (typeName: string, list: readonly FieldDefinitionNode[] | undefined): FieldDefinitionNode[] | undefined =>
    list?.map((f) => {
      const d = f.directives?.find((x) => x.name.value === 'dataset');
      const id = d === undefined ? null : arg(d, 'id');
      const cls = d === undefined ? null : (arg(d, 'class') as SharingClass | null);
      if (d !== undefined && id !== null && cls !== null && CLASS_ZH[cls] !== undefined) return describe(f, datasetLines(id, cls, arg(d, 'sensitivity') as Sensitivity | null, src));
      if (keys.get(typeName)?.has(f.name.value) === true) return describe(f, KEY_FIELD_LINES);
      return describe(f, UNCATALOGUED_LINES);
    });
  return visit(doc, {
    ObjectTypeDefinition: (n) => ({ ...n, fields: fields(n.name.value, n.fields) }),
    ObjectTypeExtension: (n) => ({ ...n, fields: fields(n.name.value, n.fields) }),
    InterfaceTypeDefinition: (n) => ({ ...n, fields: fields(n.name.value, n.fields) }),
    InterfaceTypeExtension: (n) => ({ ...n, fields: fields(n.name.value, n.fields) }),
  });
}
