/**
 * A circuit breaker per subgraph: after `failureThreshold` failures in a row the subgraph is
 * treated as down and every fetch fails at once for `cooldownMs`; then one request goes through
 * as a probe, and its outcome closes the circuit or opens it again. The transitions are pure.
 */
export type BreakerState =
  | { readonly phase: 'closed'; readonly failures: number }
  | { readonly phase: 'open'; readonly until: number }
  /** The cool-down is over and one probe is in flight; everything else still fails fast. */
  | { readonly phase: 'half-open' };

export interface BreakerOptions {
  readonly failureThreshold: number;
  readonly cooldownMs: number;
}

export const CLOSED: BreakerState = Object.freeze({ phase: 'closed', failures: 0 });

/** Whether a fetch may go out now, and the state after letting it (or not). */
export function admit(state: BreakerState, now: number): { readonly allowed: boolean; readonly next: BreakerState } {
  switch (state.phase) {
    case 'closed':
      return { allowed: true, next: state };
    case 'open':
      return now >= state.until ? { allowed: true, next: { phase: 'half-open' } } : { allowed: false, next: state };
    case 'half-open':
      return { allowed: false, next: state };
  }
}

export function afterOutcome(state: BreakerState, ok: boolean, now: number, opts: BreakerOptions): BreakerState {
  if (ok) return CLOSED;
  switch (state.phase) {
    case 'closed':
      return state.failures + 1 >= opts.failureThreshold ? { phase: 'open', until: now + opts.cooldownMs } : { phase: 'closed', failures: state.failures + 1 };
    case 'open':
    case 'half-open':
      return { phase: 'open', until: now + opts.cooldownMs };
  }
}

/** The mutable holder the fetcher uses; reports each change of phase once. */
export class CircuitBreaker {
  private state: BreakerState = CLOSED;

  constructor(
    private readonly opts: BreakerOptions,
    private readonly onChange: (from: BreakerState['phase'], to: BreakerState['phase']) => void = () => undefined,
  ) {}

  get phase(): BreakerState['phase'] {
    return this.state.phase;
  }

  tryAdmit(now = Date.now()): boolean {
    const { allowed, next } = admit(this.state, now);
    this.move(next);
    return allowed;
  }

  record(ok: boolean, now = Date.now()): void {
    this.move(afterOutcome(this.state, ok, now, this.opts));
  }

  private move(next: BreakerState): void {
    const from = this.state.phase;
    this.state = next;
    if (from !== next.phase) this.onChange(from, next.phase);
  }
}
