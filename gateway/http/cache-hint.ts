import type { CacheHint } from '@apollo/cache-control-types';

const NO_HINT: CacheHint = Object.freeze({ maxAge: 0 });
/** Subgraphs send one or two distinct Cache-Control values: each is read once. */
const hints = new Map<string, CacheHint>();

/** A subgraph's Cache-Control header as a cache hint, read as @apollo/gateway's own data source reads it. */
export function cacheHint(header: string | undefined): CacheHint {
  if (header === undefined || header === '') return NO_HINT;
  let hint = hints.get(header);
  if (hint === undefined) {
    if (hints.size >= 64) hints.clear();
    hint = Object.freeze(readCacheControl(header));
    hints.set(header, hint);
  }
  return hint;
}

function readCacheControl(header: string): CacheHint {
  const hint: { maxAge: number; scope?: 'PRIVATE' | 'PUBLIC' } = { maxAge: 0 };
  for (const part of header.trim().split(/\s*,\s*/)) {
    const [k, v] = part.split(/\s*=\s*/, 2) as [string, string?];
    const value = v?.replace(/^"|"$/g, '');
    if (k === 'max-age') hint.maxAge = value !== undefined && /^[0-9]+$/.test(value) ? Number(value) : 0;
    else if (k === 'private' && v === undefined) hint.scope = 'PRIVATE';
    else if (k === 'public' && v === undefined) hint.scope = 'PUBLIC';
  }
  return hint;
}
