// The write fence of a replica: once it is closed (leadership lost), the status writer and the event
// recorder refuse every further API write, so a deposed leader cannot overwrite what the new one wrote.
// Besides the explicit close, a guard (the leader elector's "the lease is still mine by my own clock")
// is asked before each write: after a SIGSTOP or a long GC pause, I/O callbacks can run before the
// renew-deadline timer does, and the guard refuses them anyway.
import { OperatorError } from '../errors.ts';

export class Fence {
  readonly #abort = new AbortController();
  #guard: (() => boolean) | undefined;

  /** Aborted when the fence closes (by close() only; the guard is checked on each write). */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Adds a condition that must hold for writes to pass (e.g. "still within the renew deadline"). */
  setGuard(guard: () => boolean): void {
    this.#guard = guard;
  }

  /** True once closed, or while the guard says no. */
  get closed(): boolean {
    if (this.#abort.signal.aborted) return true;
    return this.#guard !== undefined && !this.#guard();
  }

  close(why: string): void {
    if (!this.#abort.signal.aborted) this.#abort.abort(new OperatorError('LeaderElectionLost', why, { terminal: true }));
  }

  /**
   * Throws a LeaderElectionLost error when writes are no longer allowed. Not terminal: after a real loss the
   * controllers are stopping and retry nothing; when only the guard said no (a slow renewal that then
   * succeeds), the reconcile is retried with backoff instead of being dropped.
   */
  assertOpen(what: string): void {
    if (!this.closed) return;
    throw new OperatorError('LeaderElectionLost', `refusing to ${what}: this replica no longer leads`);
  }
}
