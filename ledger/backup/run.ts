import path from 'node:path';
import type { Ledger } from '../ledger.ts';
import { pruneArchives } from './catalog.ts';
import { createBackup, type Created } from './create.ts';
import { pinIdentity } from './identity.ts';
import { copyOffsite } from './offsite.ts';
import type { RetentionRule } from './retention.ts';
import type { BackupSource } from './sources.ts';
import { claimBackup, type BackupWatch, type ClaimOptions } from './state.ts';

/** Where archives go and how many are kept (the gateway's BACKUP_* configuration). */
export interface BackupSettings {
  readonly dir: string;
  readonly offsiteDir: string | null;
  readonly key: string | null;
  readonly keepDaily: number;
  readonly keepMonthly: number;
  /** Incremental archives after each full one; 0 = every archive is full. */
  readonly increments: number;
}

/** `auto`: incremental while the newest archive's chain is shorter than `increments`, else full. */
export type BackupMode = 'auto' | 'full' | 'incremental';

export interface RunOptions {
  readonly source: BackupSource;
  readonly settings: BackupSettings;
  readonly ledger: Ledger;
  readonly watch: BackupWatch;
  readonly claim: ClaimOptions;
  readonly mode?: BackupMode;
  readonly withoutKeys?: boolean;
  readonly rule?: RetentionRule;
  /** Told each step, one line each (the command prints them; the gateway logs them). */
  readonly say: (line: string) => void;
}

export interface Ran {
  readonly created: Created;
  readonly offsiteFile: string | null;
  readonly eventSeq: number;
  readonly pruned: readonly string[];
}

/**
 * One backup, start to end: claims it on the ledger (no two processes back up at once), writes
 * the archive, copies it off-site and reads the copy back, records `backup.created`, then applies
 * retention here and off-site. Any failure after the claim is recorded as `backup.failed` with
 * the one line the caller gets, so the claim ends and /health can say why.
 */
export async function runBackup(opts: RunOptions): Promise<Ran> {
  const { settings, ledger, say } = opts;
  await claimBackup(ledger, opts.watch, opts.claim);
  const by = opts.claim.by;
  try {
    const created = await createBackup({
      source: opts.source,
      backupDir: settings.dir,
      backupKey: settings.key,
      withoutKeys: opts.withoutKeys === true,
      mode: opts.mode ?? 'auto',
      increments: settings.increments,
      say,
    });
    const m = created.manifest;
    const kind = m.parent === null ? '' : ` (incremental on ${m.parent.id})`;
    say(`created ${created.file}${kind}: ${created.records} record(s) in ${m.chains.length} chain(s), ${m.files.length} file(s), ${created.bytes} bytes${m.keys === null ? ', WITHOUT keys' : ', keys sealed with BACKUP_KEY'}`);
    let offsiteFile: string | null = null;
    if (settings.offsiteDir === null) say('no OFFSITE_DIR: the archive is on this site only');
    else {
      offsiteFile = await copyOffsite(created.file, settings.offsiteDir);
      await pinIdentity(settings.offsiteDir, m.publicKeyPem);
      say(`off-site copy verified byte for byte: ${offsiteFile}`);
    }
    const e = await ledger.record(
      {
        type: 'backup.created',
        data: { archive: path.basename(created.file), sha256: created.sha256, bytes: created.bytes, heads: m.chains.map((h) => ({ log: h.log, chain: h.chain, seq: h.seq })), offsite: offsiteFile !== null, by, parent: m.parent?.id ?? null },
      },
      null,
    );
    say(`recorded in the ledger as event ${e.seq} (backup.created)`);
    const rule = opts.rule ?? { daily: settings.keepDaily, monthly: settings.keepMonthly };
    const pruned: string[] = [];
    for (const dir of [settings.dir, settings.offsiteDir]) {
      for (const name of await pruneArchives(dir, rule)) {
        pruned.push(name);
        say(`retention (${rule.daily} daily, ${rule.monthly} monthly): deleted ${path.join(dir!, name)}`);
      }
    }
    return { created, offsiteFile, eventSeq: e.seq, pruned };
  } catch (e) {
    await ledger.record({ type: 'backup.failed', data: { by, reason: (e as Error).message } }, null).catch(() => undefined);
    throw e;
  }
}
