import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usccCheckChar } from '../../common/codes.ts';
import { ConfigError, loadConfig } from '../../gateway/config.ts';
import { silentLogger } from '../../gateway/log.ts';
import { startGateway, type RunningGateway } from '../../gateway/server.ts';
import { fileAuditRecords } from '../helpers/audit.ts';
import { startExchange, type Exchange } from '../helpers/exchange.ts';

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
    expect(loadConfig({})).toMatchObject({ inputLimits: { maxOperationNameLength: 128, maxTextLength: 2000, maxListLength: 100, maxRequestCost: 2000 }, costBudgetPerMinute: 100_000 });
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
