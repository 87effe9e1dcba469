import { buildSchema, parse, print } from 'graphql';
import { describe, expect, it } from 'vitest';
import { fillResult } from '../../gateway/sharing/fill.ts';
import { trimOperation } from '../../gateway/sharing/trim.ts';
import type { Dataset, Decision } from '../../gateway/sharing/types.ts';

// A schema with an interface and a union, to check the abstract-type rules of trimming.
const schema = buildSchema(`
  scalar USCC
  type Query { subject(key: String!): Subject, node(key: String!): Node, company: Company, companies(uscc: [USCC!]!): [Company]! }
  interface Node { key: String!, secret: String }
  type Company implements Node { key: String!, secret: String, name: String, revenue: Float! }
  type Citizen implements Node { key: String!, secret: String, name: String }
  union Subject = Company | Citizen
`);
const keyFields = new Map([['Company', [['key']]], ['Citizen', [['key']]]]);
const ds: Dataset = { id: 'x.secret', provider: 'x', class: 'NOT_SHARED', sensitivity: null, coordinates: [] };
const DENIED = new Set(['Citizen.secret', 'Company.revenue']);
const decide = (type: string, field: string): Decision =>
  field === 'key'
    ? { effect: 'ALLOW', reason: 'KEY_FIELD', dataset: null, grantId: null }
    : DENIED.has(`${type}.${field}`)
      ? { effect: 'DENY', reason: 'NOT_SHARED', dataset: ds, remedy: 'none' }
      : { effect: 'ALLOW', reason: 'UNCONDITIONAL', dataset: { ...ds, class: 'UNCONDITIONAL' }, grantId: null };
const allowAll = (type: string, field: string): Decision => (field === 'key' ? decide(type, field) : { effect: 'ALLOW', reason: 'UNCLASSIFIED_ALLOWED', dataset: null, grantId: null });

describe('trimming operations on abstract types', () => {
  it('denies an interface field when any implementation denies it, and fills null with one error', () => {
    const doc = parse('{ node(key: "k1") { key secret } }');
    const t = trimOperation(schema, doc, null, decide, keyFields);
    expect(print(t.document)).not.toMatch(/\bsecret\b/);
    expect(print(t.document)).not.toContain('__x_');
    const out = fillResult({ node: { key: 'k1' } }, t.plan);
    expect(out.data).toEqual({ node: { key: 'k1', secret: null } });
    expect(out.errors).toHaveLength(1);
    expect(out.errors[0]).toMatchObject({ path: ['node', 'secret'], extensions: { code: 'FORBIDDEN', sharing: { coordinate: 'Node.secret', reason: 'NOT_SHARED' } } });
    expect(out.access.get('Node.secret')?.entityKeys).toEqual(new Set(['k1']));
  });

  it('keeps a field allowed on one member of a union and removes it on the other', () => {
    const doc = parse('{ subject(key: "k2") { ... on Company { name secret } ... on Citizen { name hidden: secret } } }');
    const t = trimOperation(schema, doc, null, decide, keyFields);
    const text = print(t.document);
    expect(text).toContain('... on Company');
    expect(text).not.toMatch(/hidden/);
    const citizen = fillResult({ subject: { name: 'Li', __x_t: 'Citizen' } }, t.plan);
    expect(citizen.data).toEqual({ subject: { name: 'Li', hidden: null } });
    expect(citizen.access.get('Citizen.secret')).toMatchObject({ entityKeys: new Set(['k2']), count: 1 });
    const company = fillResult({ subject: { name: 'Acme', secret: 's', __x_t: 'Company' } }, t.plan);
    expect(company.data).toEqual({ subject: { name: 'Acme', secret: 's' } });
    expect(company.access.has('Citizen.secret')).toBe(false);
  });

  it('propagates the null of a denied non-null field to the nearest nullable parent', () => {
    const t = trimOperation(schema, parse('{ company { name revenue } }'), null, decide, keyFields);
    const out = fillResult({ company: { name: 'Acme' } }, t.plan);
    expect(out.data).toEqual({ company: null });
    expect(out.errors[0]?.path).toEqual(['company', 'revenue']);
  });
});

describe('trimming when nothing is denied', () => {
  it.each([
    ['keys selected', '{ company { key name } }'],
    ['no keys selected', '{ company { name } }'],
    ['a fragment spread', '{ company { ...F } } fragment F on Company { name }'],
    ['a type condition on a union, no __typename', '{ subject(key: "k") { ... on Company { name } } }'],
    ['__typename only under a type condition', '{ node(key: "k") { ... on Company { __typename } } }'],
  ])('hands the planner the client\u2019s very document (%s)', (_what, query) => {
    const doc = parse(query);
    expect(trimOperation(schema, doc, null, allowAll, keyFields).document).toBe(doc);
  });

  it('counts a type-conditioned field by its presence when the client did not select __typename', () => {
    const t = trimOperation(schema, parse('{ subject(key: "k") { ... on Company { name } ... on Citizen { key } } }'), null, allowAll, keyFields);
    const out = fillResult({ subject: { name: 'Acme' } }, t.plan);
    expect(out.data).toEqual({ subject: { name: 'Acme' } });
    expect(out.access.get('Company.name')).toMatchObject({ count: 1, entityKeys: new Set(['k']) });
  });
});

describe('entity keys for the audit', () => {
  it('reads keys the client selected under an alias', () => {
    const t = trimOperation(schema, parse('{ company { id: key name } }'), null, decide, keyFields);
    expect(fillResult({ company: { id: 'k7', name: 'Acme' } }, t.plan).access.get('Company.name')?.entityKeys).toEqual(new Set(['k7']));
  });

  it('records the keys a list variable names even when nothing came back', () => {
    const t = trimOperation(schema, parse('query($u: [USCC!]!) { companies(uscc: $u) { name } }'), null, decide, keyFields);
    const out = fillResult({ companies: [null, null] }, t.plan, { variables: { u: ['A1', 'B2'] } });
    expect(out.access.get('Query.companies')).toMatchObject({ entityKeys: new Set(['A1', 'B2']), count: 1 });
  });

  it('records a denial never reached with the keys the arguments above it named', () => {
    const t = trimOperation(schema, parse('{ companies(uscc: ["A1"]) { name revenue } }'), null, decide, keyFields);
    const out = fillResult({ companies: [] }, t.plan);
    expect(out.access.get('Company.revenue')).toMatchObject({ entityKeys: new Set(['A1']), count: 0 });
  });

  it('falls back to the keys the plan\u2019s entity fetches carried when neither the response nor the arguments name them', () => {
    const t = trimOperation(schema, parse('{ company { name } }'), null, decide, keyFields);
    const out = fillResult({ company: { name: 'Acme' } }, t.plan, { fetchedKeys: (types) => (types.includes('Company') ? ['k9'] : []) });
    expect(out.access.get('Company.name')?.entityKeys).toEqual(new Set(['k9']));
    expect(out.access.get('Query.company')?.entityKeys).toEqual(new Set(['k9']));
  });

  it('records every decided field, with count 0, when execution produced no data', () => {
    const t = trimOperation(schema, parse('query($u: [USCC!]!) { companies(uscc: $u) { name revenue } }'), null, decide, keyFields);
    const out = fillResult(undefined, t.plan, { variables: { u: ['A1'] } });
    expect([...out.access.keys()].sort()).toEqual(['Company.name', 'Company.revenue', 'Query.companies']);
    expect(out.access.get('Company.name')).toMatchObject({ entityKeys: new Set(['A1']), count: 0 });
  });
});
