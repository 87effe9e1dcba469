import type { Decision } from './types.ts';

/**
 * Decisions cached per (agency, roles, purpose, coordinate) for one policy revision and one
 * validity window, the span in which no grant, agreement or suspension starts or ends. The cache
 * is dropped, and the version moves, on every change and when the clock leaves the window, so a
 * cached decision is always the one the enforcer would make.
 */
export class DecisionCache {
  private currentVersion = 1;
  private window = { from: -Infinity, until: Infinity };
  private decisions = new Map<string, Decision>();
  private readonly listeners = new Set<(why: string) => void>();

  constructor(
    private readonly clock: () => number,
    /** The validity window around a time, from the policy in force. */
    private readonly windowAt: (now: number) => { from: number; until: number },
  ) {}

  get version(): number {
    return this.currentVersion;
  }

  /** A new policy, or a line added or ended: cached decisions no longer hold. */
  changed(why: string): void {
    this.currentVersion++;
    this.decisions = new Map();
    this.window = this.windowAt(this.clock());
    for (const l of this.listeners) l(why);
  }

  /** Sets the window after the first policy is in place (no change to tell anyone of). */
  start(): void {
    this.window = this.windowAt(this.clock());
  }

  /**
   * Whether decisions cached now hold at `now`. When the clock has passed the end of the window,
   * that is a change: the version moves.
   */
  holdsAt(now: number): boolean {
    if (now >= this.window.from && now < this.window.until) return true;
    if (Math.abs(now - this.clock()) < 1000 && now >= this.window.until) {
      this.changed('a grant, agreement or suspension started or ended');
      return now >= this.window.from && now < this.window.until;
    }
    return false;
  }

  get(key: string): Decision | undefined {
    return this.decisions.get(key);
  }

  set(key: string, d: Decision): void {
    this.decisions.set(key, d);
  }

  onChange(listener: (why: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
