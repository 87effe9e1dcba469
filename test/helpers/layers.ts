import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The layering rule of docs/architecture.md (The layers): each top-level folder may import only from
 * the folders listed for it. `schema/` is data; nothing imports `test/`.
 */
export const LAYERS: Readonly<Record<string, readonly string[]>> = {
  schema: ['schema'],
  common: ['common', 'schema'],
  ledger: ['ledger', 'common', 'schema'],
  gateway: ['gateway', 'ledger', 'common', 'schema'],
  subgraphs: ['subgraphs', 'ledger', 'common', 'schema'],
  cli: ['cli', 'bin', 'gateway', 'subgraphs', 'ledger', 'common', 'schema'],
  bin: ['bin', 'cli', 'gateway', 'subgraphs', 'ledger', 'common', 'schema'],
  bench: ['bench', 'bin', 'cli', 'gateway', 'subgraphs', 'ledger', 'common', 'schema'],
};

export interface WrongWayImport {
  readonly file: string;
  readonly line: number;
  readonly target: string;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|mts|tsx)$/.test(e.name))
    .map((e) => path.join(e.parentPath, e.name));
}

/** Every relative import under `root` that goes from one top-level folder to one it may not use. */
export function wrongWayImports(root: string): WrongWayImport[] {
  const found: WrongWayImport[] = [];
  for (const [layer, allowed] of Object.entries(LAYERS)) {
    let files: string[];
    try {
      files = sourceFiles(path.join(root, layer));
    } catch {
      continue;
    }
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(IMPORT)) {
        const spec = m[1] ?? m[2]!;
        const target = path.relative(root, path.resolve(path.dirname(file), spec));
        const top = target.split(path.sep)[0]!;
        if (!allowed.includes(top)) {
          found.push({ file: path.relative(root, file), line: text.slice(0, m.index).split('\n').length + (text[m.index] === '\n' ? 1 : 0), target });
        }
      }
    }
  }
  return found;
}

/**
 * What a host running only subgraphs loads must stay below gateway/: the gateway modules reached
 * from `entry` by following relative imports (static, and dynamic ones with a literal path), each
 * with the chain of files that leads to it.
 */
export function gatewayModulesReachedFrom(root: string, entry: string): string[][] {
  const found: string[][] = [];
  const seen = new Set<string>();
  const walk = (file: string, chain: readonly string[]): void => {
    if (seen.has(file)) return;
    seen.add(file);
    let text: string;
    try {
      text = readFileSync(path.join(root, file), 'utf8');
    } catch {
      return;
    }
    for (const m of text.matchAll(IMPORT)) {
      const target = path.relative(root, path.resolve(path.dirname(path.join(root, file)), m[1] ?? m[2]!));
      if (target.split(path.sep)[0] === 'gateway') found.push([...chain, file, target]);
      else if (/\.(ts|mts|tsx)$/.test(target)) walk(target, [...chain, file]);
    }
  };
  walk(entry, []);
  return found;
}
