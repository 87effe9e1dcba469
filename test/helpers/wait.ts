/**
 * Waiting for the event a test is about (a policy reloaded, a record shipped, a process back), by
 * asking until it has happened. The bound only ends a test whose event never comes; it is no
 * claim about how fast anything is, so it is generous for a busy machine.
 */
const BOUND_MS = 20_000;
const EVERY_MS = 20;

const pause = (): Promise<void> => new Promise((r) => setTimeout(r, EVERY_MS));

/** Resolves once `check` holds; throws naming `what` if it never does. */
export async function until(check: () => boolean | Promise<boolean>, what = 'the condition', ms = BOUND_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await pause();
  }
}

/** Asks until the answer passes `done` and returns that answer (or the last one, for the test's assertion to explain). */
export async function answerWhen<T>(ask: () => Promise<T>, done: (answer: T) => boolean, ms = BOUND_MS): Promise<T> {
  const deadline = Date.now() + ms;
  let answer = await ask();
  while (!done(answer) && Date.now() < deadline) {
    await pause();
    answer = await ask();
  }
  return answer;
}

/**
 * Runs `attempt` until it succeeds (a store taking writes again after an outage) and returns what
 * it gave; a failure `retry` does not accept, or one after the bound, is thrown.
 */
export async function succeeds<T>(attempt: () => Promise<T>, retry: (e: unknown) => boolean, ms = BOUND_MS): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await attempt();
    } catch (e) {
      if (!retry(e) || Date.now() > deadline) throw e;
      await pause();
    }
  }
}
