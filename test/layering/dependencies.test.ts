import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/root.ts';

const FOLDERS = ['bench', 'bin', 'cli', 'common', 'gateway', 'ledger', 'schema', 'subgraphs', 'test'];
const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+['"]([^'".][^'"]*)['"]|(?:^|\n)\s*import\s+['"]([^'".][^'"]*)['"]|import\(\s*['"]([^'".][^'"]*)['"]\s*\)/g;

/** The package a bare specifier names: `@scope/name` or `name`, without the path inside it. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function importedPackages(): Map<string, string> {
  const found = new Map<string, string>();
  const files = [
    ...FOLDERS.flatMap((dir) => {
      try {
        return readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })
          .filter((e) => e.isFile() && /\.(ts|mts|tsx|js|mjs)$/.test(e.name) && !e.parentPath.includes('node_modules'))
          .map((e) => path.join(e.parentPath, e.name));
      } catch {
        return [];
      }
    }),
    ...readdirSync(ROOT).filter((n) => /\.(ts|js|mjs)$/.test(n)).map((n) => path.join(ROOT, n)),
  ];
  for (const file of files) {
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const specifier = m[1] ?? m[2] ?? m[3]!;
      if (specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0]!)) continue;
      const name = packageOf(specifier);
      if (!found.has(name)) found.set(name, path.relative(ROOT, file));
    }
  }
  return found;
}

describe('the packages the code imports', () => {
  it('are each declared in package.json, so none arrives only as another package\'s dependency', () => {
    const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
    const declared = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.devDependencies ?? {})]);
    const undeclared = [...importedPackages()].filter(([name]) => !declared.has(name)).map(([name, file]) => `${name} (imported in ${file})`);
    expect(undeclared).toEqual([]);
  });
});
