// A workqueue of keys (namespace/name), not events, with client-go's semantics: a key is queued at most
// once; a key added while it is being processed is re-queued once when done() is called; per-key
// exponential backoff on failure (forget() on success); addAfter() for scheduled work where a later
// addAfter never postpones an earlier one; shutdown that abandons queued keys or drains them.
// Concurrency is bounded by the number of workers calling get() (the controller decides).
import { ItemExponentialFailureRateLimiter, type RateLimiter } from './backoff.ts';
import { systemTimers, type TimerHandle, type Timers } from './timers.ts';

/** Hooks the queue reports to (metrics.ts provides a prom-client implementation). */
export interface WorkqueueMetrics {
  add(): void;
  depth(n: number): void;
  /** Seconds a key waited between becoming ready and a worker taking it. */
  queueDuration(seconds: number): void;
  /** Seconds a worker held a key (get -> done). */
  workDuration(seconds: number): void;
  retry(): void;
}

export const noopWorkqueueMetrics: WorkqueueMetrics = {
  add() {},
  depth() {},
  queueDuration() {},
  workDuration() {},
  retry() {},
};

export interface WorkqueueOptions {
  timers?: Timers;
  rateLimiter?: RateLimiter;
  metrics?: WorkqueueMetrics;
}

export interface ShutdownOptions {
  /** Keep handing out the keys already queued (not the delayed ones) until the queue is empty. Default false. */
  drainQueued?: boolean;
}

interface Waiting {
  readyAt: number;
  handle: TimerHandle;
}

export class Workqueue {
  readonly #timers: Timers;
  readonly #limiter: RateLimiter;
  readonly #metrics: WorkqueueMetrics;
  /** Keys ready to be handed out, FIFO. */
  #queue: string[] = [];
  /** Keys that need processing (queued, or re-added while processing). */
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  /** When each dirty key became ready (for queue duration). */
  readonly #addedAt = new Map<string, number>();
  readonly #startedAt = new Map<string, number>();
  readonly #waiting = new Map<string, Waiting>();
  #getters: Array<(key: string | undefined) => void> = [];
  #idleWaiters: Array<() => void> = [];
  #shuttingDown = false;
  #drainQueued = false;

  constructor(options: WorkqueueOptions = {}) {
    this.#timers = options.timers ?? systemTimers;
    this.#limiter = options.rateLimiter ?? new ItemExponentialFailureRateLimiter();
    this.#metrics = options.metrics ?? noopWorkqueueMetrics;
  }

  /** Marks a key as needing processing. No-op if already queued, or after shutdown. */
  add(key: string): void {
    if (this.#shuttingDown) return;
    if (this.#dirty.has(key)) return;
    this.#metrics.add();
    this.#dirty.add(key);
    this.#addedAt.set(key, this.#timers.now());
    if (this.#processing.has(key)) return;
    this.#enqueue(key);
  }

  /** Adds the key after ms. An earlier pending addAfter for the key wins over a later one. */
  addAfter(key: string, ms: number): void {
    if (this.#shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const readyAt = this.#timers.now() + ms;
    const existing = this.#waiting.get(key);
    if (existing && existing.readyAt <= readyAt) return;
    if (existing) this.#timers.clearTimeout(existing.handle);
    const handle = this.#timers.setTimeout(() => {
      this.#waiting.delete(key);
      this.add(key);
    }, ms);
    this.#waiting.set(key, { readyAt, handle });
  }

  /** Re-adds the key after its per-key backoff (a failed attempt). */
  addRateLimited(key: string): void {
    if (this.#shuttingDown) return;
    this.#metrics.retry();
    this.addAfter(key, this.#limiter.when(key));
  }

  /** Clears the key's failure count (call after a successful reconcile). */
  forget(key: string): void {
    this.#limiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.#limiter.numRequeues(key);
  }

  /** Waits for the next key; undefined once the queue is shut down (and drained if asked). */
  get(): Promise<string | undefined> {
    const key = this.#tryTake();
    if (key !== undefined) return Promise.resolve(key);
    if (this.#shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#getters.push(resolve));
  }

  /** Marks the end of processing a key; a key re-added meanwhile is queued again. */
  done(key: string): void {
    if (!this.#processing.delete(key)) return;
    const started = this.#startedAt.get(key);
    this.#startedAt.delete(key);
    if (started !== undefined) this.#metrics.workDuration((this.#timers.now() - started) / 1000);
    if (this.#dirty.has(key)) {
      if (this.#shuttingDown && !this.#drainQueued) {
        this.#dirty.delete(key);
        this.#addedAt.delete(key);
      } else {
        this.#enqueue(key);
      }
    }
    this.#checkIdle();
  }

  /**
   * Stops accepting keys and cancels delayed ones. Queued keys are dropped (reconciliation is
   * level-based: the next start lists everything again) unless drainQueued is set.
   * Workers blocked in get() receive undefined.
   */
  shutdown(options: ShutdownOptions = {}): void {
    this.#shuttingDown = true;
    this.#drainQueued = options.drainQueued ?? false;
    for (const w of this.#waiting.values()) this.#timers.clearTimeout(w.handle);
    this.#waiting.clear();
    if (!this.#drainQueued) {
      for (const key of this.#queue) {
        this.#dirty.delete(key);
        this.#addedAt.delete(key);
      }
      this.#queue = [];
      this.#metrics.depth(0);
    }
    if (this.#queue.length === 0) {
      const getters = this.#getters;
      this.#getters = [];
      for (const g of getters) g(undefined);
    }
    this.#checkIdle();
  }

  /** Resolves when no key is being processed (and, when draining, none is queued). */
  whenIdle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Keys ready to be handed out. */
  get length(): number {
    return this.#queue.length;
  }

  /** Keys being processed now. */
  processingKeys(): string[] {
    return [...this.#processing];
  }

  /** Keys waiting for an addAfter / backoff timer. */
  get delayedCount(): number {
    return this.#waiting.size;
  }

  #enqueue(key: string): void {
    const getter = this.#getters.shift();
    if (getter) {
      this.#take(key);
      getter(key);
      return;
    }
    this.#queue.push(key);
    this.#metrics.depth(this.#queue.length);
  }

  #tryTake(): string | undefined {
    const key = this.#queue.shift();
    if (key === undefined) return undefined;
    this.#metrics.depth(this.#queue.length);
    this.#take(key);
    if (this.#shuttingDown && this.#queue.length === 0) {
      const getters = this.#getters;
      this.#getters = [];
      for (const g of getters) g(undefined);
    }
    return key;
  }

  #take(key: string): void {
    this.#dirty.delete(key);
    this.#processing.add(key);
    const now = this.#timers.now();
    const added = this.#addedAt.get(key);
    this.#addedAt.delete(key);
    if (added !== undefined) this.#metrics.queueDuration((now - added) / 1000);
    this.#startedAt.set(key, now);
  }

  #isIdle(): boolean {
    return this.#processing.size === 0 && (!this.#drainQueued || this.#queue.length === 0);
  }

  #checkIdle(): void {
    if (!this.#isIdle()) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}
