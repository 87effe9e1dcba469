import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/root.ts';

/** The documentation a reader is sent to: the README, docs/, and the READMEs beside the data they describe. */
function documents(): string[] {
  const docs = readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`);
  return ['README.md', ...docs, 'policies/README.md', 'subgraphs/exchange/calendar/README.md'];
}

/** Outside fenced code blocks: an example command is not a reference. */
function prose(text: string): string {
  return text.replace(/^```[\s\S]*?^```/gm, '');
}

/** A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces as dashes. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchors(file: string): Set<string> {
  const text = prose(readFileSync(file, 'utf8'));
  return new Set([...text.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => anchorOf(m[1]!)));
}

/** Citations of texts a reader of the repository cannot open. */
const OUTSIDE = /CONTRACT \u00a7|CONTRACT\.md|REQUIREMENTS\.md|STYLE\.md|shared\/mission/g;

/** The text files under a top folder that a reader may open: source, schema, policy and scripts. */
function sources(top: string): string[] {
  const dir = path.join(ROOT, top);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(ts|tsx|graphql|conf|csv|md|sh)$/.test(f) || top === '.ci')
    .map((f) => path.join(top, f))
    .filter((f) => !f.includes('node_modules'));
}

const TOP = ['common', 'ledger', 'gateway', 'subgraphs', 'cli', 'bin', 'bench', 'policies', 'schema', 'test', 'docs', '.ci'];

describe('the documentation refers only to what the repository holds', () => {
  it('every relative link names a file that exists, and a heading of it when it has an anchor', () => {
    const broken: string[] = [];
    for (const doc of documents()) {
      const text = prose(readFileSync(path.join(ROOT, doc), 'utf8'));
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/.test(target)) continue;
        const [file = '', anchor] = target.split('#', 2);
        const resolved = file === '' ? path.join(ROOT, doc) : path.resolve(path.dirname(path.join(ROOT, doc)), file);
        if (!resolved.startsWith(ROOT) || !existsSync(resolved)) broken.push(`${doc}: ${target} (no such file)`);
        else if (anchor !== undefined && !anchors(resolved).has(anchor)) broken.push(`${doc}: ${target} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('every source path it names in backticks exists', () => {
    const missing: string[] = [];
    for (const doc of documents()) {
      const text = prose(readFileSync(path.join(ROOT, doc), 'utf8'));
      for (const m of text.matchAll(/`([^`\s]+)`/g)) {
        const ref = m[1]!;
        // A path, not a placeholder pattern, a chain name or a key: under a top folder, ending in a file name or a slash.
        if (!TOP.some((t) => ref.startsWith(`${t}/`)) || /[<>*{}]|…|NNN/.test(ref)) continue;
        if (!/\.[a-z]+$/.test(ref) && !ref.endsWith('/')) continue;
        if (!existsSync(path.join(ROOT, ref))) missing.push(`${doc}: ${ref}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('no document, comment or schema description cites a text outside the repository', () => {
    const outside: string[] = [];
    const self = path.relative(ROOT, import.meta.filename);
    const files = [...documents(), ...TOP.filter((t) => t !== 'docs').flatMap((t) => sources(t))];
    for (const file of files) {
      if (file === self) continue;
      const text = readFileSync(path.join(ROOT, file), 'utf8');
      for (const m of text.matchAll(OUTSIDE)) outside.push(`${file}: ${m[0]}`);
    }
    expect(outside).toEqual([]);
  });
});
