// A run's own time limit (spec.timeout of a Backup or Restore) as an AbortSignal that also follows the
// reconcile's signal (lost leadership, shutdown). Timeouts may be days long: Node turns any setTimeout
// delay over 2^31-1 ms into 1 ms, so the wait is armed in steps no longer than that.
import { systemTimers, type TimerHandle, type Timers } from '../../runtime/timers.ts';

const MAX_TIMER_MS = 2 ** 31 - 1;

/** Reason of the signal when the deadline passed (the parent's reason passes through unchanged). */
export class DeadlineExceeded extends Error {
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super(`deadline of ${timeoutMs} ms exceeded`);
    this.name = 'DeadlineExceeded';
    this.timeoutMs = timeoutMs;
  }
}

export interface Deadline {
  readonly signal: AbortSignal;
  /** True when the deadline (not the parent signal) aborted the run. */
  readonly exceeded: boolean;
  /** Disarms the timer; call when the run ends. */
  clear(): void;
}

export function deadline(parent: AbortSignal, timeoutMs: number, timers: Timers = systemTimers): Deadline {
  const controller = new AbortController();
  let handle: TimerHandle | undefined;
  let exceeded = false;
  const end = timers.now() + timeoutMs;
  const arm = (): void => {
    const left = end - timers.now();
    if (left <= 0) {
      exceeded = true;
      controller.abort(new DeadlineExceeded(timeoutMs));
      return;
    }
    handle = timers.setTimeout(arm, Math.min(left, MAX_TIMER_MS));
  };
  const onParentAbort = (): void => {
    timers.clearTimeout(handle);
    controller.abort(parent.reason);
  };
  if (parent.aborted) controller.abort(parent.reason);
  else {
    parent.addEventListener('abort', onParentAbort, { once: true });
    arm();
  }
  return {
    signal: controller.signal,
    get exceeded() {
      return exceeded;
    },
    clear() {
      timers.clearTimeout(handle);
      parent.removeEventListener('abort', onParentAbort);
    },
  };
}
