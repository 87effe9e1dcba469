import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The browser sources (explorer and console) and where their bundles are cached. */
const ROOT = path.resolve(import.meta.dirname, '../..');
const APP = path.join(import.meta.dirname, 'app');
const CACHE = path.join(ROOT, '.cache', 'web');
const ENTRIES = { explorer: path.join(APP, 'explorer.tsx'), console: path.join(APP, 'console', 'main.tsx') } as const;

/** A built asset: its bytes and content type, served under /assets/<name>. */
export interface Asset {
  readonly body: Buffer;
  readonly type: string;
}

function contentType(name: string): string {
  if (name.endsWith('.js')) return 'text/javascript; charset=utf-8';
  if (name.endsWith('.css')) return 'text/css; charset=utf-8';
  return 'application/octet-stream';
}

/** Every file the bundles depend on that can change between checkouts: our sources and the lock file. */
function sourceHash(): string {
  const h = createHash('sha256');
  const files = readdirSync(APP, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
  for (const f of [...files, path.join(ROOT, 'package-lock.json')]) {
    h.update(path.relative(ROOT, f));
    try {
      h.update(readFileSync(f));
    } catch {
      h.update('absent');
    }
  }
  return h.digest('hex').slice(0, 16);
}

function readCached(dir: string): Map<string, Asset> | null {
  try {
    const names = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as string[];
    return new Map(names.map((n) => [n, { body: readFileSync(path.join(dir, n)), type: contentType(n) }]));
  } catch {
    return null;
  }
}

/**
 * Bundles the explorer (GraphiQL) and the console with esbuild: everything they load is in the
 * bundles, nothing comes from another host. The result is cached under .cache/web by a hash of
 * the sources and the lock file, so a restart serves the previous build at once; a cache that
 * cannot be written only costs the next start a rebuild.
 */
export async function buildWebAssets(): Promise<Map<string, Asset>> {
  const hash = sourceHash();
  const dir = path.join(CACHE, hash);
  const cached = readCached(dir);
  if (cached !== null) return cached;
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: ENTRIES,
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2020',
    platform: 'browser',
    jsx: 'automatic',
    outdir: 'out',
    write: false,
    legalComments: 'none',
    define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
    logLevel: 'silent',
  });
  const assets = new Map<string, Asset>();
  for (const f of result.outputFiles) {
    const name = path.basename(f.path);
    assets.set(name, { body: Buffer.from(f.contents), type: contentType(name) });
  }
  try {
    const tmp = `${dir}.${process.pid}.tmp`;
    mkdirSync(tmp, { recursive: true });
    for (const [n, a] of assets) writeFileSync(path.join(tmp, n), a.body);
    writeFileSync(path.join(tmp, 'manifest.json'), JSON.stringify([...assets.keys()]));
    try {
      renameSync(tmp, dir);
    } catch {
      // Another process cached the same build first.
      rmSync(tmp, { recursive: true, force: true });
    }
  } catch {
    // A read-only checkout: serve from memory.
  }
  return assets;
}
