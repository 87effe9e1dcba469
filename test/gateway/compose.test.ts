import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compose, referenceSubgraphs } from '../../subgraphs/compose.ts';
import { readCatalog } from '../../gateway/sharing/catalog.ts';
import { activeGrantedDatasets } from '../../gateway/sharing/policy-files.ts';
import { openGrantStore } from '../../ledger/grants.ts';
import { SUBGRAPHS } from '../../subgraphs/registry.ts';
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

describe('npm run compose against the grants in force', () => {
  const run = (cwd: string, args: string[] = []) => spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'cli/compose.ts'), ...args], { cwd, env: { ...process.env, DATA_DIR: path.join(cwd, 'data'), POLICY_DIR: path.join(cwd, 'policies') }, encoding: 'utf8' });

  it("refuses to drop a dataset that a grant in the authority's store names until --accept, then records the removal", async () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'exchange-compose-'));
    try {
      symlinkSync(path.join(ROOT, 'node_modules'), path.join(tmp, 'node_modules'));
      cpSync(path.join(ROOT, 'schema'), path.join(tmp, 'schema'), { recursive: true });
      cpSync(path.join(ROOT, 'policies'), path.join(tmp, 'policies'), { recursive: true });
      for (const s of SUBGRAPHS) cpSync(path.join(ROOT, 'subgraphs', s.name, 'schema.graphql'), path.join(tmp, 'subgraphs', s.name, 'schema.graphql'));
      const civil = path.join(tmp, 'subgraphs/civil/schema.graphql');
      writeFileSync(civil, readFileSync(civil, 'utf8').replace(/\n {2}"婚姻登记状态"\n {2}maritalStatus: MaritalStatus\n.*\n/, '\n'));
      const config = { dataDir: path.join(tmp, 'data'), policyDir: path.join(tmp, 'policies'), redisUrl: null, redisPrefix: 'x:' };
      const store = await openGrantStore(config);
      await store.apply({ op: 'grant', grant: { id: 'g-civil-1', consumer: 'psb', dataset: 'civil.marriage-registration', purposes: ['public-security'], validFrom: '2026-01-01', validUntil: '2099-01-01' } });
      await store.apply({ op: 'grant', grant: { id: 'g-old-1', consumer: 'tax', dataset: 'eeb.enterprise-emissions', purposes: ['statistics'], validFrom: '2025-01-01', validUntil: '2026-01-01' } });
      await store.close();
      const granted = await activeGrantedDatasets(readCatalog(readFileSync(path.join(ROOT, 'schema/supergraph.graphql'), 'utf8')), config, Date.parse('2026-06-01'));
      expect(granted.has('civil.marriage-registration')).toBe(true);
      expect(granted.has('eeb.enterprise-emissions')).toBe(false); // expired
      expect(granted.has('hrss.enterprise-insurance')).toBe(true); // policies/grants.csv

      const before = readFileSync(path.join(tmp, 'schema/supergraph.graphql'), 'utf8');
      const refused = run(tmp);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain('civil.marriage-registration: removed while active grants name it');
      expect(readFileSync(path.join(tmp, 'schema/supergraph.graphql'), 'utf8')).toBe(before);

      const accepted = run(tmp, ['--accept']);
      expect(accepted.status, accepted.stderr).toBe(0);
      expect(accepted.stderr).toContain('compose: accepted: civil.marriage-registration: removed while active grants name it');
      const history = JSON.parse(readFileSync(path.join(tmp, 'schema/catalog-history.json'), 'utf8')) as { changes: { dataset: string; change: string }[] }[];
      expect(history.at(-1)!.changes).toContainEqual(expect.objectContaining({ dataset: 'civil.marriage-registration', change: 'REMOVED' }));
      expect(readFileSync(path.join(tmp, 'schema/supergraph.graphql'), 'utf8')).not.toContain('civil.marriage-registration');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  /** A scratch copy of the tree compose reads, with tax's schema edited. */
  function scratch(editTax: (sdl: string) => string): string {
    const tmp = mkdtempSync(path.join(tmpdir(), 'exchange-compose-'));
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(tmp, 'node_modules'));
    cpSync(path.join(ROOT, 'schema'), path.join(tmp, 'schema'), { recursive: true });
    cpSync(path.join(ROOT, 'policies'), path.join(tmp, 'policies'), { recursive: true });
    for (const s of SUBGRAPHS) cpSync(path.join(ROOT, 'subgraphs', s.name, 'schema.graphql'), path.join(tmp, 'subgraphs', s.name, 'schema.graphql'));
    const tax = path.join(tmp, 'subgraphs/tax/schema.graphql');
    writeFileSync(tax, editTax(readFileSync(tax, 'utf8')));
    return tmp;
  }
  const lastChanges = (tmp: string) => (JSON.parse(readFileSync(path.join(tmp, 'schema/catalog-history.json'), 'utf8')) as { changes: { dataset: string; change: string; from: string | null; to: string | null }[] }[]).at(-1)!.changes;

  it('refuses, even with --accept, a sensitive dataset that is not CONDITIONAL or NOT_SHARED, naming the rule', () => {
    const tmp = scratch((sdl) => sdl.replace('class: "CONDITIONAL", sensitivity: "COMMERCIAL"', 'class: "UNCONDITIONAL", sensitivity: "COMMERCIAL"'));
    try {
      const r = run(tmp, ['--accept']);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('tax.credit-rating: rule R-4 sensitive data stays conditional: a dataset with sensitivity COMMERCIAL must be CONDITIONAL or NOT_SHARED, not UNCONDITIONAL');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('refuses a class change in either direction without --accept, and records it in the catalog history when accepted', () => {
    const tmp = scratch((sdl) => sdl.replace('class: "CONDITIONAL", sensitivity: "COMMERCIAL"', 'class: "NOT_SHARED", sensitivity: "COMMERCIAL"'));
    try {
      const refused = run(tmp);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain('tax.credit-rating: rule R-4 a class change needs --accept: CONDITIONAL → NOT_SHARED closes it to every consumer, grants included');
      const accepted = run(tmp, ['--accept']);
      expect(accepted.status, accepted.stderr).toBe(0);
      expect(lastChanges(tmp)).toContainEqual({ dataset: 'tax.credit-rating', change: 'CLASS_CHANGED', from: 'CONDITIONAL', to: 'NOT_SHARED' });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('refuses the removal of a sensitivity without --accept, and records it when accepted', () => {
    const tmp = scratch((sdl) => sdl.replace('class: "CONDITIONAL", sensitivity: "COMMERCIAL"', 'class: "CONDITIONAL"'));
    try {
      const refused = run(tmp);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain('tax.credit-rating: rule R-4 removing a sensitivity needs --accept: COMMERCIAL → none');
      expect(run(tmp, ['--accept']).status).toBe(0);
      expect(lastChanges(tmp)).toContainEqual({ dataset: 'tax.credit-rating', change: 'SENSITIVITY_CHANGED', from: 'COMMERCIAL', to: null });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
