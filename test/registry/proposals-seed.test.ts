import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openLedger, type Ledger } from '../../ledger/ledger.ts';
import { openRegistry } from '../../ledger/registry.ts';
import { SEED_FILE, seedFileOf, seedRegistry } from '../../subgraphs/exchange/registry/seed.ts';
import { startExchange } from '../helpers/exchange.ts';
import { ROOT } from '../helpers/root.ts';

const SUPERGRAPH = path.join(ROOT, 'schema/supergraph.graphql');

/** Every supergraph.published event on the ledger of `dataDir`, read by a fold of its own. */
async function published(dataDir: string): Promise<number[]> {
  const ledger = await openLedger({ dataDir, redisUrl: null });
  const versions: number[] = [];
  const p = ledger.project((e) => {
    if (e.type === 'supergraph.published') versions.push(e.data.version);
  });
  await p.sync();
  p.stop();
  await ledger.close();
  return versions;
}

describe('version 1, recorded on the first start', () => {
  const dirs: string[] = [];
  const fresh = (): string => {
    const d = mkdtempSync(path.join(tmpdir(), 'registry-seed-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('is told by the hashes npm run compose wrote beside the supergraph (run npm run compose)', () => {
    const committed = JSON.parse(readFileSync(path.join(ROOT, SEED_FILE), 'utf8')) as unknown;
    expect(committed).toEqual(seedFileOf(readFileSync(SUPERGRAPH, 'utf8'), ROOT));
  });

  it('is recorded once: a second start on the same DATA_DIR records nothing more', async () => {
    const dataDir = path.join(fresh(), 'data');
    for (let start = 0; start < 2; start++) {
      const ex = await startExchange({ dataDir });
      try {
        const r = await ex.query('{ supergraphVersions { version current } }');
        expect(r.body.data?.['supergraphVersions']).toEqual([{ version: 1, current: true }]);
      } finally {
        await ex.close();
      }
    }
    expect(await published(dataDir)).toEqual([1]);
  });

  it('is recorded once when two processes start at the same moment', async () => {
    const dataDir = fresh();
    const ledgers: Ledger[] = [await openLedger({ dataDir, redisUrl: null }), await openLedger({ dataDir, redisUrl: null })];
    try {
      const registries = await Promise.all(ledgers.map((l) => openRegistry(l)));
      await Promise.all(ledgers.map((l, i) => seedRegistry(l, registries[i]!, SUPERGRAPH, () => {})));
      for (const r of registries) r.stop();
    } finally {
      for (const l of ledgers) await l.close();
    }
    expect(await published(dataDir)).toEqual([1]);
  });

  it('is not recorded over a supergraph that is not the reference composition, and one line says why', async () => {
    const dir = fresh();
    const other = path.join(dir, 'supergraph.graphql');
    writeFileSync(other, `# composed by an operator\n${readFileSync(SUPERGRAPH, 'utf8')}`);
    const ledger = await openLedger({ dataDir: dir, redisUrl: null });
    const lines: string[] = [];
    try {
      const registry = await openRegistry(ledger);
      await seedRegistry(ledger, registry, other, (l) => lines.push(l));
      registry.stop();
    } finally {
      await ledger.close();
    }
    expect(await published(dir)).toEqual([]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^registry: no supergraph version recorded: the supergraph served \(sha256 [0-9a-f]{12}\) is not the reference composition/);
  });
});
