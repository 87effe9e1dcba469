import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalisedEntityKey } from '../../common/entity-key.ts';
import { fileAuditRecords } from '../helpers/audit.ts';
import { startExchange, type Exchange } from '../helpers/exchange.ts';
import { ROOT } from '../helpers/root.ts';
import { createDatabase, type TestDatabase } from '../archive/database.ts';
import { until } from '../reliability/processes.ts';

const ENT = '91445202MA4W3K7PX2';
const PERSON = '44520219850315106X';

function auditCli(dataDir: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'cli/audit.ts', ...args], { cwd: ROOT, env: { ...process.env, DATA_DIR: dataDir }, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('entity keys in their one spelling', () => {
  it('upper-cases a USCC or an ID number, and leaves other keys and malformed codes as they are', () => {
    expect(normalisedEntityKey('91445202ma4w3k7px2')).toBe(ENT);
    expect(normalisedEntityKey(PERSON.toLowerCase())).toBe(PERSON);
    expect(normalisedEntityKey('book-1')).toBe('book-1');
    expect(normalisedEntityKey('91445202ma4w3k7px3')).toBe('91445202ma4w3k7px3');
  });
});

describe('a read with a lower-case key (the red team\u2019s hidden read)', () => {
  let ex: Exchange;
  let literalId: string;
  let variableId: string;
  beforeAll(async () => {
    ex = await startExchange();
    const literal = await ex.query('{ enterprise(uscc: "91445202ma4w3k7px2") { name taxCreditGrade } }', { agency: 'amr', purpose: 'market-supervision' });
    expect(literal.status).toBe(200);
    expect((literal.body.data?.['enterprise'] as { name: string | null } | null)?.name).toEqual(expect.any(String));
    literalId = literal.headers.get('x-request-id')!;
    const variable = await ex.query('query($u: USCC!) { enterprise(uscc: $u) { name } }', { agency: 'eeb', variables: { u: '91445202Ma4w3K7pX2' } });
    expect(variable.status).toBe(200);
    variableId = variable.headers.get('x-request-id')!;
  });
  afterAll(async () => {
    await ex.close();
  });

  it('records the upper-case key, whatever case the caller wrote', async () => {
    const records = (await fileAuditRecords(ex.config.dataDir)).filter((r) => r.requestId === literalId || r.requestId === variableId);
    expect(records.length).toBeGreaterThan(2);
    for (const r of records) expect(r.entityKeys).toEqual([ENT]);
  });

  it('is found by an auditor\u2019s accessHistory under the upper-case key, and under the lower-case one', async () => {
    for (const key of [ENT, ENT.toLowerCase()]) {
      const res = await ex.query('query($k: String!) { accessHistory(entityKey: $k, first: 500) { requestId agency coordinate decision } }', { agency: 'itd', roles: ['auditor'], variables: { k: key } });
      expect(res.body.errors).toBeUndefined();
      const history = res.body.data?.['accessHistory'] as { requestId: string; agency: string; coordinate: string }[];
      expect(history).toEqual(expect.arrayContaining([
        expect.objectContaining({ requestId: literalId, agency: 'amr', coordinate: 'Enterprise.taxCreditGrade' }),
        expect.objectContaining({ requestId: variableId, agency: 'eeb', coordinate: 'Enterprise.name' }),
      ]));
    }
  });

  it('is found by npm run audit -- query --entity with the upper-case key', () => {
    const r = auditCli(ex.config.dataDir, ['query', '--entity', ENT, '--json']);
    expect(r.status).toBe(0);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l) as { requestId: string; coordinate: string; entityKeys: string[] });
    expect(lines).toEqual(expect.arrayContaining([expect.objectContaining({ requestId: literalId, coordinate: 'Enterprise.name', entityKeys: [ENT] })]));
  });
});

describe('a lower-case read when auditors read the PostgreSQL archive', () => {
  let db: TestDatabase;
  let ex: Exchange;
  beforeAll(async () => {
    db = await createDatabase();
    ex = await startExchange({ env: { ARCHIVE_URL: db.url() } });
  }, 120_000);
  afterAll(async () => {
    await ex.close();
    await db.drop();
  });

  it('is found by accessHistory under the upper-case key and under the lower-case one', async () => {
    const read = await ex.query('{ enterprise(uscc: "91445202ma4w3k7px2") { name } }', { agency: 'hrss' });
    expect(read.status).toBe(200);
    const id = read.headers.get('x-request-id')!;
    const history = async (key: string): Promise<string[]> => {
      const res = await ex.query('query($k: String!) { accessHistory(entityKey: $k, first: 500) { requestId } }', { agency: 'itd', roles: ['auditor'], variables: { k: key } });
      return ((res.body.data?.['accessHistory'] ?? []) as { requestId: string }[]).map((r) => r.requestId);
    };
    await until(async () => (await history(ENT)).includes(id), 'the archive holds the read under the upper-case key');
    expect(await history(ENT.toLowerCase())).toContain(id);
  });
});
