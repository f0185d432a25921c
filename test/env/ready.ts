// Waits for a freshly started server to become ready, failing at once (with its log) when the process
// exits instead of polling until the timeout.
import { eventually } from '../wait.ts';
import type { ManagedProcess } from './process.ts';

export class ProcessExitedError extends Error {
  override readonly name = 'ProcessExitedError';
  readonly exitCode: number | null;
  readonly log: string;
  constructor(what: string, exitCode: number | null, log: string) {
    super(`${what} exited with ${exitCode} while starting:\n${log}`);
    this.exitCode = exitCode;
    this.log = log;
  }
}

/** Polls `check` until it returns true; rejects with ProcessExitedError if `proc` exits first. */
export async function untilReadyOrExit(
  proc: ManagedProcess,
  check: () => Promise<boolean>,
  timeoutMs: number,
  describe: () => string,
  intervalMs = 100,
): Promise<void> {
  let exited = false;
  const polling = eventually(`${proc.name} to be ready`, async () => exited || (await check()), timeoutMs, describe, intervalMs);
  polling.catch(() => undefined);
  const outcome = await Promise.race([
    polling.then(() => 'ready' as const),
    proc.exited.then((code) => ({ code })),
  ]);
  if (outcome === 'ready' && !exited) return;
  exited = true;
  const code = outcome === 'ready' ? await proc.exited : outcome.code;
  throw new ProcessExitedError(proc.name, code, proc.tail());
}
