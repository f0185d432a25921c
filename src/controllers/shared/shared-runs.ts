// Work that several reconciles need at the same time, done once: a materialized-view refresh of one
// database that many LokdarpanDatabase resources point at. A caller joins the run of its key that started
// at or after the moment it needed one (that run's result is as fresh as its own would have been);
// otherwise it starts a run of its own. A run stopped by its starter's signal (timeout, lost leadership)
// is not shared: the callers that joined it start their own. A joiner stops waiting when its own signal
// aborts.

interface Run<T> {
  startedAt: number;
  result: Promise<T>;
  abortedByStarter: () => boolean;
}

export class SharedRuns<T> {
  readonly #runs = new Map<string, Run<T>>();
  readonly #now: () => number;

  /** `now`: milliseconds on the clock the callers' `neededSince` comes from. */
  constructor(now: () => number) {
    this.#now = now;
  }

  /** How many runs are in flight (for tests). */
  get inFlight(): number {
    return this.#runs.size;
  }

  async run(key: string, neededSince: number, start: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const current = this.#runs.get(key);
    if (current !== undefined && current.startedAt >= neededSince) {
      try {
        return await untilAborted(current.result, signal);
      } catch (error) {
        if (signal?.aborted || !current.abortedByStarter()) throw error;
      }
    }
    return this.#start(key, start, signal);
  }

  #start(key: string, start: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    const run: Run<T> = { startedAt: this.#now(), result: start(), abortedByStarter: () => signal?.aborted === true };
    this.#runs.set(key, run);
    const forget = (): void => {
      if (this.#runs.get(key) === run) this.#runs.delete(key);
    };
    run.result.then(forget, forget);
    return run.result;
  }
}

function untilAborted<T>(result: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return result;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    result.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
