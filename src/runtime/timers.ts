// Timers as a port: the workqueue, informer, leader election and controller schedule through this so
// unit tests drive time by hand (ManualTimers) instead of sleeping.

export interface TimerHandle {
  readonly id: number;
}

export interface Timers {
  /** Milliseconds on a monotonic-enough clock (real: Date.now()). */
  now(): number;
  /** Runs fn after ms. Real timers are unref'd: a pending timer never keeps the process alive on its own. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

/** Sleeps on the given timers; rejects with the signal's reason when aborted. */
export function sleep(timers: Timers, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      timers.clearTimeout(handle);
      reject(signal?.reason);
    };
    const handle = timers.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

let nextRealId = 1;

/** Node turns any delay above this (2^31-1 ms, about 24.8 days) into 1 ms, with a TimeoutOverflowWarning. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

export interface RealTimersOptions {
  /** Longest single platform timer; longer delays are armed in steps. Default MAX_TIMER_DELAY_MS (tests lower it). */
  maxStepMs?: number;
}

/**
 * The process's timers. A delay of any length works: one above the platform limit (a yearly schedule's
 * requeue) is armed as a chain of timers no longer than maxStepMs, each re-aimed at the original due time.
 */
export function realTimers(options: RealTimersOptions = {}): Timers {
  const maxStep = Math.min(MAX_TIMER_DELAY_MS, Math.max(1, options.maxStepMs ?? MAX_TIMER_DELAY_MS));
  const live = new Map<number, NodeJS.Timeout>();
  const arm = (id: number, dueAt: number, fn: () => void): void => {
    const remaining = Math.max(0, dueAt - Date.now());
    const step = Math.min(remaining, maxStep);
    const t = globalThis.setTimeout(() => {
      if (step < remaining) {
        arm(id, dueAt, fn);
        return;
      }
      live.delete(id);
      fn();
    }, step);
    t.unref();
    live.set(id, t);
  };
  return {
    now: () => Date.now(),
    setTimeout(fn, ms) {
      const id = nextRealId++;
      // NaN counts as 0 (as Node does); Infinity never fires.
      arm(id, Date.now() + (Number.isNaN(ms) ? 0 : Math.max(0, ms)), fn);
      return { id };
    },
    clearTimeout(handle) {
      if (!handle) return;
      const t = live.get(handle.id);
      if (t) globalThis.clearTimeout(t);
      live.delete(handle.id);
    },
  };
}

export const systemTimers: Timers = realTimers();

interface PendingTimer {
  id: number;
  at: number;
  seq: number;
  fn: () => void;
}

/** Timers that move only when a test calls advance(); due callbacks run in time order. */
export class ManualTimers implements Timers {
  #now: number;
  #seq = 0;
  #pending = new Map<number, PendingTimer>();

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.#seq;
    this.#pending.set(id, { id, at: this.#now + Math.max(0, ms), seq: id, fn });
    return { id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle) this.#pending.delete(handle.id);
  }

  /** Number of timers not yet fired. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** The delays (from now) of the pending timers, sorted. */
  pendingDelays(): number[] {
    return [...this.#pending.values()].map((t) => t.at - this.#now).sort((a, b) => a - b);
  }

  /**
   * Moves time forward by ms, firing due timers in order; between timers (and at the end) lets pending
   * promise callbacks run so async code reacting to a timer settles before the next one fires.
   */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      await flushMicrotasks();
      const next = this.#nextDue(target);
      if (!next) break;
      this.#pending.delete(next.id);
      this.#now = Math.max(this.#now, next.at);
      next.fn();
    }
    this.#now = target;
    await flushMicrotasks();
  }

  #nextDue(limit: number): PendingTimer | undefined {
    let best: PendingTimer | undefined;
    for (const t of this.#pending.values()) {
      if (t.at > limit) continue;
      if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best;
  }
}

/** Lets queued promise callbacks (several hops deep) and immediates run. */
export async function flushMicrotasks(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
