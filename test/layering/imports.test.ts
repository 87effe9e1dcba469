import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gatewayModulesReachedFrom, wrongWayImports } from '../helpers/layers.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('layering: imports point down', () => {
  it('finds no import from a lower layer into a higher one, nor between gateway and subgraphs', () => {
    expect(wrongWayImports(ROOT)).toEqual([]);
  });

  it.each([
    ['gateway/planted.ts', "import { loadSubgraph } from '../subgraphs/index.ts';", 'subgraphs/index.ts'],
    ['subgraphs/planted.ts', "import { startGateway } from '../gateway/server.ts';", 'gateway/server.ts'],
    ['ledger/planted.ts', "export { loadConfig } from '../gateway/config.ts';", 'gateway/config.ts'],
    ['common/planted.ts', "const m = await import('../ledger/grants.ts');", 'ledger/grants.ts'],
    ['gateway/planted.ts', "import { die } from '../bin/run.ts';", 'bin/run.ts'],
  ])('reports a planted wrong-way import in %s', (file, line, target) => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'exchange-layers-'));
    try {
      for (const dir of ['common', 'ledger', 'gateway', 'subgraphs']) cpSync(path.join(ROOT, dir), path.join(tmp, dir), { recursive: true });
      writeFileSync(path.join(tmp, file), `// planted by the layering test\n${line}\n`);
      expect(wrongWayImports(tmp)).toEqual([{ file, line: 2, target }]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('loads no gateway module on a host running only subgraphs (bin/subgraph.ts, followed through every import)', () => {
    expect(gatewayModulesReachedFrom(ROOT, 'bin/subgraph.ts')).toEqual([]);
  });

  it.each([
    ['bin/subgraph.ts', "import { loadConfig } from '../gateway/config.ts';", 'gateway/config.ts'],
    ['bin/run.ts', "import { log } from '../gateway/log.ts';", 'gateway/log.ts'],
    ['subgraphs/kit/server.ts', "const m = await import('../../gateway/log.ts');", 'gateway/log.ts'],
  ])('reports a gateway module planted on the subgraph host\'s path in %s', (file, line, target) => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'exchange-layers-'));
    try {
      for (const dir of ['bin', 'common', 'ledger', 'subgraphs']) cpSync(path.join(ROOT, dir), path.join(tmp, dir), { recursive: true });
      const planted = path.join(tmp, file);
      writeFileSync(planted, `${line}\n${readFileSync(planted, 'utf8')}`);
      const chains = gatewayModulesReachedFrom(tmp, 'bin/subgraph.ts');
      expect(chains.map((c) => [c[0], c.at(-2), c.at(-1)])).toContainEqual(['bin/subgraph.ts', file, target]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
