import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../common/errors.ts';
import { DENY_REASONS } from '../../gateway/sharing/types.ts';
import { ROOT } from '../helpers/root.ts';

describe('error code registry', () => {
  const doc = readFileSync(path.join(ROOT, 'docs/errors.md'), 'utf8');
  const documented = new Map<string, number>();
  for (const m of doc.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)) documented.set(m[1]!, Number(m[2]));

  it('docs/errors.md lists exactly the codes of common/errors.ts with the same HTTP status', () => {
    const registry = new Map(Object.entries(ERROR_CODES).map(([code, v]) => [code, v.status as number]));
    expect(documented).toEqual(registry);
  });

  it('docs/errors.md documents every denial reason a caller or an audit record can carry', () => {
    for (const reason of [...DENY_REASONS, 'ROLE_REQUIRED', 'RATE_LIMITED']) {
      expect(doc).toContain(`| \`${reason}\` |`);
    }
  });
});
