// One heavy operation per database at a time inside this operator (migration, refresh, validation,
// backup, retention): callers on the same key queue behind each other. Across processes the engines'
// own advisory locks apply; only the leader reconciles anyway.
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();
  readonly #holders = new Map<string, string>();

  /** Runs fn once every earlier holder of `key` is done. `what` names the holder for busy messages. */
  async run<T>(key: string, what: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.#tails.set(key, tail);
    await previous;
    this.#holders.set(key, what);
    try {
      return await fn();
    } finally {
      this.#holders.delete(key);
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }

  /** True while `key` is held or queued for: a caller that must not wait can come back later. */
  busy(key: string): boolean {
    return this.#tails.has(key);
  }

  /** What holds `key` right now, if anything. */
  holder(key: string): string | undefined {
    return this.#holders.get(key);
  }
}
