// client-go's client-side rate limiter (flowcontrol.NewTokenBucketRateLimiter): a bucket of `burst`
// tokens refilled at `qps` per second; each API request takes one and waits when none is left. Every
// take reserves its token at once (the balance may go negative), so waiting requests leave in the order
// they arrived and a burst is spread at exactly `qps` after the first `burst`.

export interface RequestRateLimiter {
  /** Takes a token, waiting until one is due; resolves with the time waited in ms. */
  take(): Promise<number>;
}

export interface TokenBucketOptions {
  /** Tokens added per second (> 0). */
  qps: number;
  /** Bucket size: requests allowed at once after a quiet period (>= 1). */
  burst: number;
  /** Milliseconds, monotonic. Default performance.now. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export class TokenBucket implements RequestRateLimiter {
  readonly #msPerToken: number;
  readonly #burst: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  #tokens: number;
  #last: number;

  constructor(options: TokenBucketOptions) {
    if (!(options.qps > 0) || !Number.isFinite(options.qps)) throw new Error(`rate limiter qps must be a positive number, not ${options.qps}`);
    if (!(options.burst >= 1)) throw new Error(`rate limiter burst must be at least 1, not ${options.burst}`);
    this.#msPerToken = 1000 / options.qps;
    this.#burst = Math.floor(options.burst);
    this.#now = options.now ?? (() => performance.now());
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#tokens = this.#burst;
    this.#last = this.#now();
  }

  async take(): Promise<number> {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#last) / this.#msPerToken);
    this.#last = now;
    this.#tokens -= 1;
    if (this.#tokens >= 0) return 0;
    const wait = -this.#tokens * this.#msPerToken;
    await this.#sleep(wait);
    return wait;
  }
}

/** No limit (QPS 0 in the configuration). */
export const unlimited: RequestRateLimiter = { take: async () => 0 };
