import { copyFile, open, rename, rm, mkdir } from 'node:fs/promises';
import path from 'node:path';

export class OffsiteCopyError extends Error {
  override readonly name = 'OffsiteCopyError';
}

/** Whether two files hold the same bytes, read side by side in chunks (no whole-file buffers). */
export async function sameBytes(a: string, b: string): Promise<boolean> {
  const [fa, fb] = await Promise.all([open(a, 'r'), open(b, 'r')]);
  try {
    const [sa, sb] = await Promise.all([fa.stat(), fb.stat()]);
    if (sa.size !== sb.size) return false;
    const ba = Buffer.alloc(1 << 20);
    const bb = Buffer.alloc(1 << 20);
    for (let pos = 0; pos < sa.size; ) {
      const [ra, rb] = await Promise.all([fa.read(ba, 0, ba.length, pos), fb.read(bb, 0, bb.length, pos)]);
      if (ra.bytesRead !== rb.bytesRead || ra.bytesRead === 0 || !ba.subarray(0, ra.bytesRead).equals(bb.subarray(0, rb.bytesRead))) return false;
      pos += ra.bytesRead;
    }
    return true;
  } finally {
    await Promise.all([fa.close(), fb.close()]);
  }
}

/**
 * Copies an archive to the off-site directory (in production a mount of another site): copied
 * under a temporary name, synced, renamed, then read back and compared byte for byte with the
 * original. A copy that differs is removed and reported, never left looking like a good one.
 */
export async function copyOffsite(file: string, offsiteDir: string): Promise<string> {
  const dest = path.join(offsiteDir, path.basename(file));
  const tmp = `${dest}.${process.pid}.tmp`;
  try {
    await mkdir(offsiteDir, { recursive: true, mode: 0o700 });
    await copyFile(file, tmp);
    const fh = await open(tmp, 'r+');
    try {
      // The copy is as private as the original, whatever mode the copy was made with.
      await fh.chmod(0o600);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, dest);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new OffsiteCopyError(`cannot copy ${path.basename(file)} to OFFSITE_DIR ${offsiteDir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (!(await sameBytes(file, dest))) {
    await rm(dest, { force: true });
    throw new OffsiteCopyError(`the copy of ${path.basename(file)} in OFFSITE_DIR ${offsiteDir} differs from the original when read back; removed it`);
  }
  return dest;
}
