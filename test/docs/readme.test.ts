import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExchange, type Exchange } from '../helpers/exchange.ts';
import { ROOT } from '../helpers/root.ts';

/**
 * The README's first query and first steps, run as the README writes them: the request bodies are
 * read from the README itself, so an edit there that stops working fails here.
 */
const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** The fenced blocks of one section of the README, in order. */
function blocks(heading: string, language: string): string[] {
  const start = README.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README has no section "${heading}"`);
  const end = README.indexOf('\n## ', start + 1);
  const section = README.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(new RegExp('^```' + language + '\\n([\\s\\S]*?)^```', 'gm'))].map((m) => m[1]!);
}

/** The GraphQL query of the `curl ... -d '{"query":...}'` in a shell block. */
function curlQuery(block: string): string {
  const body = /-d '(\{.*\})'/.exec(block);
  if (body === null) throw new Error(`no curl body in:\n${block}`);
  return (JSON.parse(body[1]!) as { query: string }).query;
}

/** A header the curl command sends. */
function curlHeader(block: string, name: string): string | undefined {
  return new RegExp(`-H '${name}: ([^']+)'`).exec(block)?.[1];
}

describe('the README’s first steps', () => {
  let ex: Exchange;
  beforeAll(async () => {
    ex = await startExchange();
  }, 60_000);
  afterAll(async () => {
    await ex.close();
  });

  it('the first query, as tax for tax-collection, reads every field it joins from four agencies', async () => {
    const block = blocks('First query', 'sh')[0]!;
    expect(block).toContain('--agency tax');
    const purpose = curlHeader(block, 'x-purpose');
    expect(purpose).toBe('tax-collection');
    const res = await ex.query(curlQuery(block), { agency: 'tax', purpose });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    const enterprise = res.body.data?.['enterprise'] as Record<string, unknown>;
    for (const field of ['name', 'legalRepresentative', 'status', 'taxpayerStatus', 'taxCreditGrade', 'insuredEmployees', 'dischargePermit']) {
      expect(enterprise[field], field).not.toBeNull();
    }
  });

  it('Enterprise.emissions for the same caller comes back null with GRANT_REQUIRED, as the README says', async () => {
    const res = await ex.query('{ enterprise(uscc: "91445202MA4W3K7PX2") { name emissions(year: 2024) { cod } } }', { agency: 'tax', purpose: 'tax-collection' });
    const enterprise = res.body.data?.['enterprise'] as Record<string, unknown>;
    expect(enterprise['emissions']).toBeNull();
    expect(res.body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    expect((res.body.errors?.[0]?.extensions?.['sharing'] as { reason: string }).reason).toBe('GRANT_REQUIRED');
  });

  it('the developer’s mayRead example answers a decision, a reason and a remedy', async () => {
    const query = blocks('First steps by user', 'graphql')[0]!;
    const res = await ex.query(query, { agency: 'amr' });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.['mayRead']).toEqual({ decision: 'ALLOW', reason: 'GRANT', remedy: null });
  });

  it('the authority’s first query answers a coordinator of itd with its inbox and the violation findings', async () => {
    const block = blocks('First steps by user', 'sh').find((b) => b.includes('COORD='));
    expect(block).toContain('--agency itd --roles coordinator');
    const res = await ex.query(curlQuery(block!), { agency: 'itd', roles: ['coordinator'] });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(Array.isArray((res.body.data?.['inbox'] as { items: unknown }).items)).toBe(true);
    expect(Array.isArray(res.body.data?.['violationFindings'])).toBe(true);
  });
});
