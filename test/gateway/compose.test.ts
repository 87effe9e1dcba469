import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compose, referenceSubgraphs } from '../../gateway/compose.ts';
import { ROOT } from '../helpers/root.ts';

describe('composition', () => {
  it('the committed supergraph equals a fresh composition of subgraphs/*/schema.graphql (run npm run compose)', () => {
    const result = compose(referenceSubgraphs(ROOT));
    if (!result.ok) throw new Error(result.errors.join('\n'));
    const committed = readFileSync(path.join(ROOT, 'schema/supergraph.graphql'), 'utf8');
    expect(committed.trimEnd()).toBe(result.supergraphSdl.trimEnd());
  });

  it('refuses two subgraphs claiming the same dataset (R-8) naming both', () => {
    const subgraphs = referenceSubgraphs(ROOT).map((s) =>
      s.name === 'amr'
        ? { ...s, agency: 'tax', sdl: s.sdl.replace('type Enterprise @key(fields: "uscc") {', 'type Enterprise @key(fields: "uscc") {\n  creditGrade: String @dataset(id: "tax.credit-rating", class: "CONDITIONAL", sensitivity: "COMMERCIAL")') }
        : s,
    );
    const result = compose(subgraphs);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.join('\n')).toMatch(/R-8 one data, one source: dataset tax\.credit-rating is claimed by subgraphs (tax|amr) .* and (tax|amr)/);
  });

  it('refuses a subgraph declaring another agency\u2019s dataset', () => {
    const subgraphs = referenceSubgraphs(ROOT).map((s) =>
      s.name === 'civil' ? { ...s, sdl: s.sdl.replace('civil.marriage-registration', 'psb.marriage-registration') } : s,
    );
    const result = compose(subgraphs);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.join('\n')).toContain('dataset psb.marriage-registration belongs to psb; subgraph civil');
  });

  it('refuses an unknown sharing class with the field named', () => {
    const subgraphs = referenceSubgraphs(ROOT).map((s) => (s.name === 'civil' ? { ...s, sdl: s.sdl.replace('class: "CONDITIONAL"', 'class: "OPEN"') } : s));
    const result = compose(subgraphs);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.join('\n')).toContain('civil: Person.maritalStatus: class must be one of UNCONDITIONAL, CONDITIONAL, NOT_SHARED, got "OPEN"');
  });

  it('reports composition errors of the subgraphs themselves', () => {
    const subgraphs = referenceSubgraphs(ROOT).map((s) => (s.name === 'civil' ? { ...s, sdl: s.sdl.replace('maritalStatus: MaritalStatus', 'maritalStatus: Missing') } : s));
    const result = compose(subgraphs);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.join('\n')).toMatch(/Missing/);
  });
});
