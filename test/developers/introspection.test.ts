import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildClientSchema, getIntrospectionQuery, isInterfaceType, isObjectType, type IntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCatalog } from '../../gateway/sharing/catalog.ts';
import { startExchange, type Exchange } from '../helpers/exchange.ts';
import { ROOT } from '../helpers/root.ts';
import datasets from '../../schema/catalog/datasets.json' with { type: 'json' };

const FULL = getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true, oneOf: true });

describe('introspection for agency developers', () => {
  let ex: Exchange;
  let schema: ReturnType<typeof buildClientSchema>;
  beforeAll(async () => {
    ex = await startExchange();
    const res = await ex.query(FULL, { agency: 'psb' });
    expect(res.status).toBe(200);
    schema = buildClientSchema(res.body.data as unknown as IntrospectionQuery);
  });
  afterAll(async () => {
    await ex.close();
  });

  it('answers getIntrospectionQuery() with every option, deeper than the data depth limit, for any authenticated agency', async () => {
    for (const agency of ['civil', 'itd']) {
      const res = await ex.query(FULL, { agency });
      expect(res.status).toBe(200);
      expect(res.body.errors).toBeUndefined();
    }
    expect(schema.getQueryType()?.getFields()['enterprise']).toBeDefined();
  });

  it('answers introspection without a token 401, like everything else', async () => {
    const res = await ex.query(FULL, { authorization: '' });
    expect(res.status).toBe(401);
    expect(res.body.data).toBeUndefined();
  });

  it('applies the data depth limit when introspection is mixed with data fields', async () => {
    const ofType = 'ofType { '.repeat(9) + 'name' + ' }'.repeat(9);
    const introspectionOnly = await ex.query(`{ __schema { types { fields { type { ${ofType} } } } } }`);
    expect(introspectionOnly.status).toBe(200);
    const mixed = await ex.query(`{ __schema { types { fields { type { ${ofType} } } } } enterprise(uscc: "91445202MA4W3K7PX2") { name } }`);
    expect(mixed.status).toBe(400);
    expect(mixed.body.errors?.[0]?.message).toContain('query depth exceeds the limit of 12');
  });

  it('bounds introspection by how many lists nest on one path', async () => {
    const res = await ex.query('{ __schema { types { fields { args { type { inputFields { name } } } } } } }');
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]).toMatchObject({ message: expect.stringContaining('introspection nests 4 lists'), extensions: { code: 'BAD_USER_INPUT' } });
  });

  it('shows no federation internals', () => {
    const names = Object.keys(schema.getTypeMap());
    expect(names.filter((n) => /^(join__|link__|_Service$|_Entity$|_Any$|federation__)/.test(n))).toEqual([]);
    expect(Object.keys(schema.getQueryType()!.getFields()).filter((f) => f.startsWith('_'))).toEqual([]);
    expect(schema.getDirectives().map((d) => d.name).sort()).toEqual(['deprecated', 'include', 'oneOf', 'skip', 'specifiedBy']);
  });

  it('describes every field in Chinese and English with its dataset, class, sensitivity and catalogued purposes', () => {
    const catalog = readCatalog(readFileSync(path.join(ROOT, 'schema/supergraph.graphql'), 'utf8'));
    const catalogued = datasets as Record<string, { purposes: string[] }>;
    let checked = 0;
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__') || (!isObjectType(type) && !isInterfaceType(type))) continue;
      for (const field of Object.values(type.getFields())) {
        const coordinate = `${type.name}.${field.name}`;
        const description = field.description ?? '';
        const ds = catalog.byCoordinate.get(coordinate);
        checked++;
        if (ds === undefined) {
          expect(catalog.keyFields.get(type.name), coordinate).toContain(field.name);
          expect(description, coordinate).toContain('实体键');
          expect(description, coordinate).toContain('Entity key');
          continue;
        }
        expect(description, coordinate).toContain(`数据集：${ds.id}`);
        expect(description, coordinate).toContain(`Dataset: ${ds.id}`);
        expect(description, coordinate).toContain(`class: ${ds.class}`);
        expect(description, coordinate).toContain(`sensitivity: ${ds.sensitivity ?? 'none'}`);
        if (ds.class === 'CONDITIONAL') for (const p of catalogued[ds.id]?.purposes ?? []) expect(description, coordinate).toContain(p);
      }
    }
    expect(checked).toBeGreaterThan(150);
  });

  it('keeps the hand-written description above the generated lines', () => {
    const d = (schema.getType('Enterprise') as ReturnType<typeof schema.getQueryType> & object).getFields()['taxCreditGrade']!.description!;
    expect(d.split('\n')).toEqual([
      '纳税信用等级 (latest assessment)',
      '数据集：tax.credit-rating（纳税信用等级）；提供方：tax（国家税务总局揭阳市税务局）；共享类型：有条件共享；敏感级别：商业秘密；目录用途：market-supervision（市场监管）、credit-supervision（信用监管）、environmental-enforcement（环境执法）。',
      'Dataset: tax.credit-rating (Tax credit rating); provider: tax (Taxation Bureau); class: CONDITIONAL; sensitivity: COMMERCIAL; catalogued purposes: market-supervision (Market supervision), credit-supervision (Credit supervision), environmental-enforcement (Environmental enforcement).',
    ]);
  });
});
