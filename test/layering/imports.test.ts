import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { wrongWayImports } from '../helpers/layers.ts';

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
});
