// Waiting in tests: on a condition, with a deadline generous enough for a busy 2-core machine. A wait
// whose bound IS the property under test (a hand-over within the lease time, ...) asserts that bound
// itself and uses these only to wait.

/**
 * How long a test waits for a condition that has no deadline of its own (an operator process to start and
 * answer /readyz, an event to be recorded, ...).
 */
export const GENEROUS_WAIT_MS = 120_000;

/**
 * The timeout of a whole suite (a `describe` or a file's single test): a guard against a hang only, never a
 * bound on how fast the suite runs. A suite that is cut by it cancels every test after the one running, so
 * it must leave room for a machine several times slower than a quiet one.
 */
export const SUITE_TIMEOUT_MS = 20 * 60_000;

export async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/**
 * Polls `check` every `intervalMs` (200) until it returns a value other than undefined/false and returns that value;
 * an error thrown by `check` counts as "not yet" and is reported if the deadline passes.
 */
export async function eventually<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = GENEROUS_WAIT_MS, detail?: () => string | Promise<string>, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const extra = detail ? await Promise.resolve(detail()).catch((e: unknown) => String(e)) : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}\n${extra}`);
    }
    await sleep(intervalMs);
  }
}
