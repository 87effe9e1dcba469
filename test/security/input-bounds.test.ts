import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usccCheckChar } from '../../common/codes.ts';
import { ConfigError, loadConfig } from '../../gateway/config.ts';
import { silentLogger } from '../../gateway/log.ts';
import { startGateway, type RunningGateway } from '../../gateway/server.ts';
import { fileAuditRecords } from '../helpers/audit.ts';
import { ROOT, startExchange, type Exchange } from '../helpers/exchange.ts';

const ENT = '91445202MA4W3K7PX2';

/** Bytes of every file under `dir` (the store's segments, witness and all). */
function bytesUnder(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) total += statSync(path.join(e.parentPath, e.name)).size;
  return total;
}

/** `n` distinct well-formed USCCs of Rongcheng (445202). */
function usccs(n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const first17 = `914452020000${String(i).padStart(5, '0')}`;
    return first17 + usccCheckChar(first17)!;
  });
}

interface Answer {
  readonly status: number;
  readonly body: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

async function post(url: string, token: string, body: unknown, requestId?: string): Promise<Answer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...(requestId !== undefined ? { 'x-request-id': requestId } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}

describe('the input limits\u2019 configuration', () => {
  it('defaults to 128, 2000, 100, 2000 and a budget of 100000 per minute, and takes each from the environment', () => {
    expect(loadConfig({})).toMatchObject({ inputLimits: { maxOperationNameLength: 128, maxTextLength: 2000, maxDocumentLength: 200_000, maxListLength: 100, maxRequestCost: 2000 }, costBudgetPerMinute: 100_000 });
    const set = loadConfig({ MAX_OPERATION_NAME_LENGTH: '64', MAX_TEXT_ARGUMENT_LENGTH: '500', MAX_LIST_ARGUMENT_LENGTH: '20', MAX_REQUEST_COST: '300', COST_BUDGET_PER_MINUTE: 'off' });
    expect(set).toMatchObject({ inputLimits: { maxOperationNameLength: 64, maxTextLength: 500, maxListLength: 20, maxRequestCost: 300 }, costBudgetPerMinute: null });
  });

  it('reports each bad value in one line', () => {
    let problems: readonly string[] = [];
    try {
      loadConfig({ MAX_LIST_ARGUMENT_LENGTH: 'many', MAX_REQUEST_COST: '5000', COST_BUDGET_PER_MINUTE: '1000' });
    } catch (e) {
      problems = (e as ConfigError).problems;
    }
    expect(problems).toEqual([
      'MAX_LIST_ARGUMENT_LENGTH must be an integer from 1 to 100000, got "many"',
      'COST_BUDGET_PER_MINUTE (1000) must be at least MAX_REQUEST_COST (5000), or no request of the largest allowed cost could ever run',
    ]);
  });
});

const FIELDS = 'name legalRepresentative registeredCapital establishedOn address status taxpayerStatus taxCreditGrade insuredEmployees dischargePermit { number validUntil }';

describe('bounded input on the gateway (defaults)', () => {
  let ex: Exchange;
  beforeAll(async () => {
    ex = await startExchange();
  });
  afterAll(async () => {
    await ex.close();
  });

  it('refuses a 120,000-character operation name with 400 naming MAX_OPERATION_NAME_LENGTH, and writes nothing to the log for it', async () => {
    const auditDir = path.join(ex.config.dataDir, 'audit');
    await ex.query(`{ enterprise(uscc: "${ENT}") { name } }`, { agency: 'amr' });
    const before = bytesUnder(auditDir);
    const name = `N${'x'.repeat(119_999)}`;
    const res = await post(ex.url, ex.token('amr'), { query: `query ${name} { enterprise(uscc: "${ENT}") { ${FIELDS} } }`, operationName: name });
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'MAX_OPERATION_NAME_LENGTH' });
    expect(res.body.errors?.[0]?.message).toContain('over the limit of 128');
    expect(bytesUnder(auditDir) - before).toBeLessThan(10_000);
  });

  it('still answers an operation whose name is within the limit, and records the name', async () => {
    const name = `Look${'x'.repeat(120)}`;
    const res = await post(ex.url, ex.token('amr'), { query: `query ${name} { enterprise(uscc: "${ENT}") { name } }` }, 'bounds-named');
    expect(res.status).toBe(200);
    const records = (await fileAuditRecords(ex.config.dataDir)).filter((r) => r.requestId === 'bounds-named');
    expect(records).toEqual(expect.arrayContaining([expect.objectContaining({ operationName: name, coordinate: 'Enterprise.name' })]));
  });

  it('refuses a 240 KB justification in fileSharingRequest with 400 naming MAX_TEXT_ARGUMENT_LENGTH, and the ledger does not grow', async () => {
    const ledgerDir = path.join(ex.config.dataDir, 'ledger');
    const before = bytesUnder(ledgerDir);
    const res = await post(ex.url, ex.token('eeb'), {
      query: 'mutation($j: String!) { fileSharingRequest(provider: "tax", datasets: ["tax.credit-rating"], purposes: ["environmental-enforcement"], legalBasis: "R-11", justification: $j, validUntil: "2030-12-31") { id } }',
      variables: { j: 'x'.repeat(240_000) },
    });
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'MAX_TEXT_ARGUMENT_LENGTH' });
    expect(res.body.errors?.[0]?.message).toContain('variable "$j"');
    expect(bytesUnder(ledgerDir)).toBe(before);
  });

  it('refuses a literal free-text argument over the limit the same way, naming the argument', async () => {
    const res = await post(ex.url, ex.token('eeb'), {
      query: `mutation { fileComplaint(against: "tax", ground: LATE, description: "${'y'.repeat(2001)}") { id } }`,
    });
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'MAX_TEXT_ARGUMENT_LENGTH' });
    expect(res.body.errors?.[0]?.message).toContain('argument "description"');
  });

  it('answers checkSubgraph with the exchange subgraph\u2019s own SDL (over 50,000 characters) under the default MAX_DOCUMENT_ARGUMENT_LENGTH', async () => {
    const sdl = readFileSync(path.join(ROOT, 'subgraphs/exchange/schema.graphql'), 'utf8');
    expect(sdl.length).toBeGreaterThan(50_000);
    const res = await post(ex.url, ex.token('itd', ['coordinator']), {
      query: 'query($i: SubgraphProposalInput!) { checkSubgraph(input: $i) { readsFrom } }',
      variables: { i: { subgraph: 'exchange', url: 'http://127.0.0.1:4007/graphql', sdl } },
    });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual({ checkSubgraph: { readsFrom: 'access log' } });
  });

  it('refuses enterprises(uscc:) with 11,400 keys in a 251 KB body with 400 naming MAX_LIST_ARGUMENT_LENGTH', async () => {
    const keys = usccs(11_400);
    const res = await post(ex.url, ex.token('amr'), { query: 'query($k: [USCC!]!) { enterprises(uscc: $k) { name status } }', variables: { k: keys } });
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'MAX_LIST_ARGUMENT_LENGTH' });
    expect(res.body.errors?.[0]?.message).toContain('11400 items, over the limit of 100');
  });

  it('refuses a literal list of 101 keys, and answers one of 100', async () => {
    const list = (n: number) => usccs(n).map((k) => `"${k}"`).join(',');
    const over = await post(ex.url, ex.token('amr'), { query: `{ enterprises(uscc: [${list(101)}]) { name } }` });
    expect(over.status).toBe(400);
    expect(over.body.errors?.[0]?.extensions).toMatchObject({ limit: 'MAX_LIST_ARGUMENT_LENGTH' });
    const within = await post(ex.url, ex.token('amr'), { query: `{ enterprises(uscc: [${list(100)}]) { name } }` });
    expect(within.status).toBe(200);
  });
});

describe('document arguments: a proposal\u2019s SDL and catalog (MAX_DOCUMENT_ARGUMENT_LENGTH 3000)', () => {
  let ex: Exchange;
  /** The reference psb subgraph's SDL: 2344 characters, over MAX_TEXT_ARGUMENT_LENGTH. */
  const PSB_SDL = readFileSync(path.join(ROOT, 'subgraphs/psb/schema.graphql'), 'utf8');
  const OVER = `${PSB_SDL}\n# ${'z'.repeat(3000 - PSB_SDL.length - 2)}`; // 3001 characters
  /** psb's catalog entries, one description lengthened so that the catalog is over MAX_TEXT_ARGUMENT_LENGTH too. */
  const PSB_CATALOG = (() => {
    const all = JSON.parse(readFileSync(path.join(ROOT, 'schema/catalog/datasets.json'), 'utf8')) as Record<string, { description: string }>;
    const psb = Object.fromEntries(Object.entries(all).filter(([id]) => id.startsWith('psb.')));
    const first = Object.values(psb)[0]!;
    first.description += ' '.repeat(1500);
    return JSON.stringify(psb);
  })();
  const REPORT = 'approvable compositionErrors readsFrom';
  const byVariable = (input: Record<string, unknown>) => post(ex.url, ex.token('psb'), { query: `query($i: SubgraphProposalInput!) { checkSubgraph(input: $i) { ${REPORT} } }`, variables: { i: input } });
  const byLiteral = (sdl: string, note = 'n') => post(ex.url, ex.token('psb'), { query: `{ checkSubgraph(input: { subgraph: "psb", url: "http://127.0.0.1:4005/graphql", sdl: ${JSON.stringify(sdl)}, note: ${JSON.stringify(note)} }) { ${REPORT} } }` });
  beforeAll(async () => {
    ex = await startExchange({ env: { MAX_DOCUMENT_ARGUMENT_LENGTH: '3000' } });
  });
  afterAll(async () => {
    await ex.close();
  });

  it('answers checkSubgraph with the reference psb SDL given as a variable with a report, not a limit error', async () => {
    expect(PSB_SDL.length).toBeGreaterThan(2000);
    expect(PSB_CATALOG.length).toBeGreaterThan(2000);
    const res = await byVariable({ subgraph: 'psb', url: 'http://127.0.0.1:4005/graphql', sdl: PSB_SDL, catalog: PSB_CATALOG });
    expect(res.body.errors).toBeUndefined();
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ checkSubgraph: { approvable: expect.any(Boolean) as unknown, readsFrom: 'access log' } });
  });

  it('answers checkSubgraph with the reference psb SDL written as a literal, and with the SDL in a variable of its own', async () => {
    const literal = await byLiteral(PSB_SDL);
    expect(literal.body.errors).toBeUndefined();
    expect(literal.body.data).toMatchObject({ checkSubgraph: { readsFrom: 'access log' } });
    const own = await post(ex.url, ex.token('psb'), { query: `query($s: String!) { checkSubgraph(input: { subgraph: "psb", url: "http://127.0.0.1:4005/graphql", sdl: $s }) { ${REPORT} } }`, variables: { s: PSB_SDL } });
    expect(own.body.errors).toBeUndefined();
    expect(own.body.data).toMatchObject({ checkSubgraph: { readsFrom: 'access log' } });
  });

  it('refuses an SDL over MAX_DOCUMENT_ARGUMENT_LENGTH with 400 naming it, as a variable and as a literal', async () => {
    const variable = await byVariable({ subgraph: 'psb', url: 'http://127.0.0.1:4005/graphql', sdl: OVER });
    expect(variable.status).toBe(400);
    expect(variable.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'MAX_DOCUMENT_ARGUMENT_LENGTH' });
    expect(variable.body.errors?.[0]?.message).toContain('variable "$i.sdl" is 3001 characters, over the limit of 3000');
    const literal = await byLiteral(OVER);
    expect(literal.status).toBe(400);
    expect(literal.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'MAX_DOCUMENT_ARGUMENT_LENGTH' });
    expect(literal.body.errors?.[0]?.message).toContain('argument "input.sdl" is 3001 characters');
  });

  it('still refuses long reasons, a long note beside the SDL and a long field of another input object with MAX_TEXT_ARGUMENT_LENGTH', async () => {
    const long = 'r'.repeat(2001);
    const reasons = await post(ex.url, ex.token('itd', ['coordinator']), { query: 'mutation($id: String!, $r: String!) { refuseProposal(id: $id, reasons: $r) { id } }', variables: { id: 'p-1', r: long } });
    const note = await byVariable({ subgraph: 'psb', url: 'http://127.0.0.1:4005/graphql', sdl: PSB_SDL, note: long });
    const literalNote = await byLiteral(PSB_SDL, long);
    // A key named like a document field does not lift the bound in another input type.
    const member = await post(ex.url, ex.token('itd', ['coordinator']), {
      query: 'mutation($m: MemberInput!) { registerMember(input: $m) { code } }',
      variables: { m: { code: 'x1', division: '445202', name: long, nameEn: 'X', kind: 'CENTRE', responsiblePerson: 'A', contact: 'B', sdl: PSB_SDL } },
    });
    const reused = await post(ex.url, ex.token('psb'), { query: `query($s: String!) { checkSubgraph(input: { subgraph: "psb", url: "http://127.0.0.1:4005/graphql", sdl: $s, note: $s }) { ${REPORT} } }`, variables: { s: PSB_SDL } });
    for (const [res, where] of [
      [reasons, 'variable "$r"'],
      [note, 'variable "$i.note"'],
      [literalNote, 'argument "input.note"'],
      [member, 'variable "$m.'],
      [reused, 'variable "$s"'],
    ] as const) {
      expect(res.status).toBe(400);
      expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'MAX_TEXT_ARGUMENT_LENGTH' });
      expect(res.body.errors?.[0]?.message).toContain(where);
    }
  });
});

describe('request cost and the per-agency budget', () => {
  let ex: Exchange;
  let gw: RunningGateway;
  let now = Date.parse('2026-06-01T08:00:00Z');
  beforeAll(async () => {
    ex = await startExchange();
    gw = await startGateway({ ...ex.config, inputLimits: { ...ex.config.inputLimits, maxRequestCost: 100 }, costBudgetPerMinute: 150 }, { log: silentLogger, clock: () => now, instance: 'cost-gateway' });
  });
  afterAll(async () => {
    await gw.close();
    await ex.close();
  });
  const batch = (n: number) => ({ query: 'query($k: [USCC!]!) { enterprises(uscc: $k) { name status } }', variables: { k: usccs(n) } });

  it('refuses a request over MAX_REQUEST_COST with 400 naming it, and draws nothing from the budget', async () => {
    const res = await post(gw.url, ex.token('hrss'), batch(50)); // 1 + 50 × 2
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'MAX_REQUEST_COST' });
    expect(res.body.errors?.[0]?.message).toContain('estimated cost is 101');
    expect((await post(gw.url, ex.token('hrss'), batch(45))).status).toBe(200);
  });

  it('refuses an agency over COST_BUDGET_PER_MINUTE with 400 naming it, serves other agencies, and serves it again as the budget refills', async () => {
    expect((await post(gw.url, ex.token('psb'), batch(40))).status).toBe(200); // 81 of 150
    const over = await post(gw.url, ex.token('psb'), batch(40));
    expect(over.status).toBe(400);
    expect(over.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'COST_BUDGET_PER_MINUTE' });
    expect(over.body.errors?.[0]?.message).toContain('agency psb has 69 of its budget of 150 per minute left');
    expect((await post(gw.url, ex.token('civil'), batch(40))).status).toBe(200);
    now += 60_000;
    expect((await post(gw.url, ex.token('psb'), batch(40))).status).toBe(200);
  });
});

describe('records of a refused request', () => {
  let ex: Exchange;
  let gw: RunningGateway;
  beforeAll(async () => {
    ex = await startExchange();
    gw = await startGateway({ ...ex.config, rateLimitPerMinute: 1 }, { log: silentLogger, clock: () => Date.parse('2026-06-01T08:00:00Z'), instance: 'refusing-gateway' });
  });
  afterAll(async () => {
    await gw.close();
    await ex.close();
  });

  it('stay small when a rate-limited (429) request carries a 120,000-character operation name', async () => {
    expect((await post(gw.url, ex.token('tax'), { query: `{ enterprise(uscc: "${ENT}") { name } }` })).status).toBe(200);
    const name = `N${'x'.repeat(119_999)}`;
    const fields = Array.from({ length: 40 }, (_, i) => `f${i}: enterprise(uscc: "${ENT}") { name }`).join(' ');
    const res = await post(gw.url, ex.token('tax'), { query: `query ${name} { ${fields} }`, operationName: name }, 'flood-429');
    expect(res.status).toBe(429);
    const records = (await fileAuditRecords(ex.config.dataDir)).filter((r) => r.requestId === 'flood-429');
    expect(records.length).toBeGreaterThan(0);
    expect(records.every((r) => r.decision === 'DENY' && r.reason === 'RATE_LIMITED')).toBe(true);
    expect(records[0]!.operationName!.startsWith('Nxxx')).toBe(true);
    expect(records.reduce((n, r) => n + JSON.stringify(r).length, 0)).toBeLessThan(4_000);
  });
});
