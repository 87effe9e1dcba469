import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The columns of a grant line (p2) of a policy file after its letter, in order: the one layout the
 * gateway's policy loader and the registry's check both read (docs/policies.md).
 */
export const GRANT_COLUMNS = ['id', 'consumer', 'dataset', 'purpose', 'valid from', 'valid until', 'legal basis'] as const;

/** Cells of a grant line, its letter included; the last (legal basis) is free text and keeps its commas. */
export const GRANT_LINE_WIDTH = GRANT_COLUMNS.length + 1;

/** One grant line as written: one purpose each (a grant may span several lines of one file). */
export interface GrantLine {
  readonly id: string;
  readonly consumer: string;
  readonly dataset: string;
  readonly purpose: string;
  readonly validFrom: string;
  readonly validUntil: string;
  /** Empty when the line names none (the gateway refuses such a line). */
  readonly legalBasis: string;
}

/**
 * Trimmed cells of one policy line. With `width`, a line of more cells is a last column of free
 * text that held commas: they are joined back into it.
 */
export function policyLineCells(raw: string, width = 0): string[] {
  const cells = raw.split(',');
  for (let c = 0; c < cells.length; c++) cells[c] = cells[c]!.trim();
  if (width > 0 && cells.length > width) return [...cells.slice(0, width - 1), cells.slice(width - 1).join(', ')];
  return cells;
}

/** The grant the cells after a p2 letter stand for; null when the columns before the legal basis are not all there. */
export function grantOfCells(rest: readonly string[]): GrantLine | null {
  if (rest.length < GRANT_COLUMNS.length - 1) return null;
  const [id, consumer, dataset, purpose, validFrom, validUntil] = rest as [string, string, string, string, string, string];
  return { id, consumer, dataset, purpose, validFrom, validUntil, legalBasis: rest[GRANT_COLUMNS.length - 1] ?? '' };
}

/** The grant lines of one policy text as written: neither checked against the catalog nor the members. */
export function grantLinesOf(text: string): GrantLine[] {
  const out: GrantLine[] = [];
  for (const line of text.split('\n')) {
    const raw = line.trim();
    if (!raw.startsWith('p2,') && !/^p2\s+,/.test(raw)) continue;
    const grant = grantOfCells(policyLineCells(raw, GRANT_LINE_WIDTH).slice(1));
    if (grant !== null) out.push(grant);
  }
  return out;
}

/**
 * The grant lines of every CSV file of a policy directory (policies/grants.csv in the reference),
 * as the gateway loads them. A directory or file that cannot be read has none: the gateway reports it.
 */
export function readGrantLines(dir: string): GrantLine[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.csv')).sort();
  } catch {
    return [];
  }
  const out: GrantLine[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(path.join(dir, f), 'utf8');
    } catch {
      continue;
    }
    out.push(...grantLinesOf(text));
  }
  return out;
}
