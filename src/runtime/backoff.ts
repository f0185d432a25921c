// Backoff policies: per-key exponential failure backoff for the workqueue (controller-runtime's
// ItemExponentialFailureRateLimiter: 5 ms doubling up to 1000 s) and a jittered exponential backoff for
// restarting watches and retrying API calls.

export interface RateLimiter {
  /** The delay before the key's next retry; each call counts one more failure. */
  when(key: string): number;
  /** Forgets the key's failures (after a success). */
  forget(key: string): void;
  /** How many failures the key has now. */
  numRequeues(key: string): number;
}

export interface ExponentialRateLimiterOptions {
  /** First delay. Default 5 ms. */
  baseDelayMs?: number;
  /** Largest delay. Default 1000 s. */
  maxDelayMs?: number;
}

export const DEFAULT_BASE_DELAY_MS = 5;
export const DEFAULT_MAX_DELAY_MS = 1_000_000;

/** baseDelay * 2^failures, capped at maxDelay, per key. */
export class ItemExponentialFailureRateLimiter implements RateLimiter {
  readonly #base: number;
  readonly #max: number;
  readonly #failures = new Map<string, number>();

  constructor(options: ExponentialRateLimiterOptions = {}) {
    this.#base = options.baseDelayMs ?? DEFAULT_BASE_DELAY_MS;
    this.#max = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  }

  when(key: string): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    // 2^failures overflows to Infinity for very large counts; the cap keeps the result finite.
    const delay = this.#base * 2 ** failures;
    return Number.isFinite(delay) ? Math.min(delay, this.#max) : this.#max;
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.#failures.get(key) ?? 0;
  }
}

export interface JitteredBackoffOptions {
  /** First delay. Default 800 ms (client-go's reflector). */
  initialMs?: number;
  /** Largest delay before jitter. Default 30 s. */
  maxMs?: number;
  /** The delay is multiplied by a random factor in [1, 1 + jitter). Default 1.0. */
  jitter?: number;
  /** Random source in [0, 1); injectable for tests. */
  random?: () => number;
}

/** Exponential backoff with multiplicative jitter, for restarting a failing watch. */
export class JitteredBackoff {
  readonly #initial: number;
  readonly #max: number;
  readonly #jitter: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: JitteredBackoffOptions = {}) {
    this.#initial = options.initialMs ?? 800;
    this.#max = options.maxMs ?? 30_000;
    this.#jitter = options.jitter ?? 1.0;
    this.#random = options.random ?? Math.random;
  }

  /** The next delay; each call doubles the base until the cap. */
  next(): number {
    const base = Math.min(this.#initial * 2 ** this.#attempt, this.#max);
    this.#attempt++;
    return Math.round(base * (1 + this.#jitter * this.#random()));
  }

  reset(): void {
    this.#attempt = 0;
  }

  get attempts(): number {
    return this.#attempt;
  }
}
