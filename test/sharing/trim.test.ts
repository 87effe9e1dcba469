import { buildSchema, parse, print } from 'graphql';
import { describe, expect, it } from 'vitest';
import { fillResult } from '../../gateway/sharing/fill.ts';
import { trimOperation } from '../../gateway/sharing/trim.ts';
import type { Dataset, Decision } from '../../gateway/sharing/types.ts';

// A schema with an interface and a union, to check the abstract-type rules of trimming.
const schema = buildSchema(`
  type Query { subject(key: String!): Subject, node(key: String!): Node, company: Company }
  interface Node { key: String!, secret: String }
  type Company implements Node { key: String!, secret: String, name: String, revenue: Float! }
  type Citizen implements Node { key: String!, secret: String, name: String }
  union Subject = Company | Citizen
`);
const keyFields = new Map([['Company', ['key']], ['Citizen', ['key']]]);
const ds: Dataset = { id: 'x.secret', provider: 'x', class: 'NOT_SHARED', sensitivity: null, coordinates: [] };
const DENIED = new Set(['Citizen.secret', 'Company.revenue']);
const decide = (type: string, field: string): Decision =>
  field === 'key'
    ? { effect: 'ALLOW', reason: 'KEY_FIELD', dataset: null, grantId: null }
    : DENIED.has(`${type}.${field}`)
      ? { effect: 'DENY', reason: 'NOT_SHARED', dataset: ds, remedy: 'none' }
      : { effect: 'ALLOW', reason: 'UNCONDITIONAL', dataset: { ...ds, class: 'UNCONDITIONAL' }, grantId: null };

describe('trimming operations on abstract types', () => {
  it('denies an interface field when any implementation denies it, and fills null with one error', () => {
    const doc = parse('{ node(key: "k1") { key secret } }');
    const t = trimOperation(schema, doc, null, decide, keyFields);
    expect(print(t.document)).not.toMatch(/\bsecret\b/);
    const out = fillResult({ node: { key: 'k1', __x_t: 'Company' } }, t.plan);
    expect(out.data).toEqual({ node: { key: 'k1', secret: null } });
    expect(out.errors).toHaveLength(1);
    expect(out.errors[0]).toMatchObject({ path: ['node', 'secret'], extensions: { code: 'FORBIDDEN', sharing: { coordinate: 'Node.secret', reason: 'NOT_SHARED' } } });
  });

  it('keeps a field allowed on one member of a union and removes it on the other', () => {
    const doc = parse('{ subject(key: "k2") { ... on Company { name secret } ... on Citizen { name hidden: secret } } }');
    const t = trimOperation(schema, doc, null, decide, keyFields);
    const text = print(t.document);
    expect(text).toContain('... on Company');
    expect(text).not.toMatch(/hidden/);
    const citizen = fillResult({ subject: { name: 'Li', __x_t: 'Citizen', __x_k_key: 'k2' } }, t.plan);
    expect(citizen.data).toEqual({ subject: { name: 'Li', hidden: null } });
    expect(citizen.access.get('Citizen.secret')).toMatchObject({ entityKeys: new Set(['k2']), count: 1 });
    const company = fillResult({ subject: { name: 'Acme', secret: 's', __x_t: 'Company', __x_k_key: 'k2' } }, t.plan);
    expect(company.data).toEqual({ subject: { name: 'Acme', secret: 's' } });
    expect(company.access.has('Citizen.secret')).toBe(false);
  });

  it('propagates the null of a denied non-null field to the nearest nullable parent', () => {
    const t = trimOperation(schema, parse('{ company { name revenue } }'), null, decide, keyFields);
    const out = fillResult({ company: { name: 'Acme', __x_k_key: 'k3' } }, t.plan);
    expect(out.data).toEqual({ company: null });
    expect(out.errors[0]?.path).toEqual(['company', 'revenue']);
  });

  it('returns the very same document when nothing is denied and no hidden field is needed', () => {
    const doc = parse('{ company { key name } }');
    expect(trimOperation(schema, doc, null, decide, keyFields).document).toBe(doc);
  });
});
