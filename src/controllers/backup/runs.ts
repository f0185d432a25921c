// The Backups or Restores this process is running right now (keys namespace/name), each with a way to
// cancel it from outside the reconcile: deleting a Restore (a drill, for one) stops its run at once.
export class RunningRuns {
  readonly #runs = new Map<string, AbortController>();

  has(key: string): boolean {
    return this.#runs.has(key);
  }

  /** Registers the run; its signal aborts when cancel(key) is called. */
  add(key: string): AbortSignal {
    const controller = new AbortController();
    this.#runs.set(key, controller);
    return controller.signal;
  }

  delete(key: string): void {
    this.#runs.delete(key);
  }

  /** Cancels a running run; false when none runs under that key. */
  cancel(key: string, reason: string): boolean {
    const run = this.#runs.get(key);
    if (!run) return false;
    run.abort(new RunCancelled(reason));
    return true;
  }
}

export class RunCancelled extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunCancelled';
  }
}
