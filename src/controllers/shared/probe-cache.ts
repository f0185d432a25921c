// Results of the preflight probes, shared by every policy in this operator: one probe per key (a
// destination's identity plus a hash of its credentials, a database's connection settings hashed)
// at a time, its result (success or failure) reused for a while, and a global limit on probes in
// flight, so 500 policies on one bucket cost one probe, not 500, and never a burst against S3 or
// the database. Keys are hashes: no credential is kept here in the clear.
import { createHash } from 'node:crypto';
import { systemClock, type Clock } from '../../clock.ts';
import { Semaphore } from '../../runtime/semaphore.ts';

export interface ProbeCacheOptions {
  /** How long a success is reused (default 5 min). */
  successTtlMs?: number;
  /** How long a failure is reused (default 5 s: a fix must show quickly). */
  failureTtlMs?: number;
  /** Probes running at once across all keys (default 4). */
  concurrency?: number;
  /** Entries kept at most; the oldest go first (default 5000). */
  maxEntries?: number;
  clock?: Clock;
}

interface Entry {
  at: number;
  ok: boolean;
  value: unknown;
}

export interface CachedResult<T> {
  /** When the probe that produced it started. */
  at: Date;
  value: T;
}

/** SHA-256 of the JSON of `parts`: a cache key that reveals nothing of the credentials in it. */
export function probeKey(kind: string, parts: unknown): string {
  return `${kind}:${createHash('sha256').update(JSON.stringify(parts)).digest('hex')}`;
}

export class ProbeCache {
  readonly #entries = new Map<string, Entry>();
  readonly #inFlight = new Map<string, Promise<Entry>>();
  readonly #successTtlMs: number;
  readonly #failureTtlMs: number;
  readonly #slots: Semaphore;
  readonly #maxEntries: number;
  readonly #clock: Clock;
  /** Probes actually started (for tests and metrics). */
  probes = 0;

  constructor(options: ProbeCacheOptions = {}) {
    this.#successTtlMs = options.successTtlMs ?? 5 * 60_000;
    this.#failureTtlMs = options.failureTtlMs ?? 5_000;
    this.#slots = new Semaphore(options.concurrency ?? 4);
    this.#maxEntries = options.maxEntries ?? 5000;
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * The result of `probe` for `key`: a cached one when younger than its TTL and than `maxAgeMs`, the
   * running one when another caller is probing the same key, else a new probe (queued behind the
   * concurrency limit). A failure is rethrown as it was thrown.
   */
  async get<T>(key: string, probe: () => Promise<T>, options: { maxAgeMs?: number } = {}): Promise<CachedResult<T>> {
    const now = this.#clock.now().getTime();
    const cached = this.#entries.get(key);
    if (cached !== undefined) {
      const ttl = Math.min(cached.ok ? this.#successTtlMs : this.#failureTtlMs, options.maxAgeMs ?? Infinity);
      if (now - cached.at < ttl) return this.#unwrap<T>(cached);
    }
    let running = this.#inFlight.get(key);
    if (running === undefined) {
      running = this.#run(key, probe);
      this.#inFlight.set(key, running);
    }
    return this.#unwrap<T>(await running);
  }

  /** Forgets every entry (tests; a changed operator configuration). */
  clear(): void {
    this.#entries.clear();
  }

  #unwrap<T>(entry: Entry): CachedResult<T> {
    if (!entry.ok) throw entry.value;
    return { at: new Date(entry.at), value: entry.value as T };
  }

  async #run(key: string, probe: () => Promise<unknown>): Promise<Entry> {
    await this.#slots.acquire();
    const at = this.#clock.now().getTime();
    let entry: Entry;
    try {
      this.probes++;
      entry = { at, ok: true, value: await probe() };
    } catch (error) {
      entry = { at, ok: false, value: error };
    } finally {
      this.#slots.release();
      this.#inFlight.delete(key);
    }
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    return entry;
  }
}
