import { logVerifier } from '../log/log-key.ts';
import { cosignPayload, type CheckpointRequest, type Cosigned } from './statement.ts';

const TIMEOUT_MS = 3000;

/** A witness that answered but refused (rollback, fork, bad signature): not worth retrying as is. */
export class WitnessRefusedError extends Error {
  override readonly name = 'WitnessRefusedError';
}

async function call<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
  const text = await res.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    // reported below
  }
  if (res.status === 409 || res.status === 403 || res.status === 400) throw new WitnessRefusedError((body as { message?: string } | null)?.message ?? `refused (HTTP ${res.status})`);
  if (!res.ok || body === null) throw new Error(`answered HTTP ${res.status}`);
  return body as T;
}

function base(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}

/** Asks the witness at `url` to countersign a checkpoint. */
export function submitCheckpoint(url: string, req: CheckpointRequest): Promise<Cosigned> {
  return call<Cosigned>(`${base(url)}/v1/checkpoint`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(req) });
}

export interface WitnessedLog {
  /** The newest countersigned head of every chain the witness has seen for (origin, log). */
  readonly heads: readonly Cosigned[];
  /** Every countersigned head per chain, oldest first. */
  readonly history: ReadonlyMap<string, readonly Cosigned[]>;
}

/**
 * Everything the witness countersigned for a log, each countersignature checked against the key
 * the witness publishes; a witness whose answers do not verify is an error.
 */
export async function witnessedLog(url: string, origin: string, log: string): Promise<WitnessedLog> {
  const q = `origin=${encodeURIComponent(origin)}&log=${encodeURIComponent(log)}`;
  const { publicKey, heads } = await call<{ publicKey: string; heads: Cosigned[] }>(`${base(url)}/v1/heads?${q}`);
  const witness = logVerifier(publicKey);
  const history = new Map<string, Cosigned[]>();
  for (const h of heads) {
    const { heads: all } = await call<{ heads: Cosigned[] }>(`${base(url)}/v1/history?${q}&chain=${encodeURIComponent(h.chain)}`);
    for (const c of [h, ...all]) {
      const { cosig, ...rest } = c;
      if (c.origin !== origin || c.log !== log || c.chain !== h.chain || !witness.valid(cosignPayload(rest), cosig)) throw new Error(`answered a countersignature for chain ${h.chain} that does not verify with its key`);
    }
    history.set(h.chain, all);
  }
  return { heads, history };
}
