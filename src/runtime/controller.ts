// The one reconcile loop (controller-runtime's internal controller): workers take keys from the
// workqueue and call reconcile(key). Throwing retries with per-key backoff; an OperatorError with
// terminal: true is not retried; { requeueAfterMs } schedules the next run. The loop owns exception
// capture (a throw never escapes), the per-reconcile child logger, the timeout (an AbortSignal the
// reconciler must honour), and the controller-runtime metrics. A reconcile that does not return within
// releaseAfterAbortMs of its timeout no longer holds its worker: the worker takes the next key while the
// key itself stays busy (never reconciled twice at once) until the stray reconcile returns.
import { randomUUID } from 'node:crypto';
import { OperatorError, describeError, isOperatorError } from '../errors.ts';
import { silentLogger, type Logger } from '../observability/logger.ts';
import type { OperatorMetrics, ReconcileResultLabel } from '../observability/metrics.ts';
import type { RateLimiter } from './backoff.ts';
import { systemTimers, type TimerHandle, type Timers } from './timers.ts';
import { Workqueue } from './workqueue.ts';
import type { Reason } from '../reasons/index.ts';

export interface ReconcileResult {
  /** Run again after this many ms (scheduled work); failure backoff is reset. */
  requeueAfterMs?: number;
  /** Run again soon with backoff, without counting an error. */
  requeue?: boolean;
}

export interface ReconcileContext {
  /** `namespace/name` (or `name` for cluster-scoped objects). */
  readonly key: string;
  readonly namespace: string | undefined;
  readonly name: string;
  /** Aborted on timeout, on loss of leadership and when shutdown gives up waiting. */
  readonly signal: AbortSignal;
  /** A child logger bound to controller, key and reconcileID. */
  readonly logger: Logger;
  /** How many times in a row this key has failed before this attempt. */
  readonly retries: number;
}

export type ReconcileFn = (key: string, context: ReconcileContext) => Promise<ReconcileResult | void>;

export interface ControllerOptions {
  /** Metric label and log binding, e.g. "lokdarpandatabase". */
  name: string;
  reconcile: ReconcileFn;
  /** Workers, i.e. the most keys reconciled at once. Default 1. */
  concurrency?: number;
  /** Per-reconcile timeout in ms; 0 disables. Default 10 minutes. */
  timeoutMs?: number;
  /** After a timeout aborts a reconcile, how long its worker waits for it before moving on. Default 5 s. */
  releaseAfterAbortMs?: number;
  logger?: Logger;
  metrics?: OperatorMetrics;
  timers?: Timers;
  rateLimiter?: RateLimiter;
}

export interface StopOptions {
  /** How long to wait for in-flight reconciles before aborting their signals. Default 30 s. */
  graceMs?: number;
  /** After aborting, how long to wait for them to return. Default 5 s. */
  abandonMs?: number;
}

export interface StopResult {
  /** Keys still running when stop() returned (their signal was aborted). */
  abandoned: string[];
}

/** Splits `namespace/name` (or `name`). */
export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

export function objectKey(obj: { metadata?: { namespace?: string; name?: string } | undefined }): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? '';
  return ns ? `${ns}/${name}` : name;
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;

export class Controller {
  readonly name: string;
  readonly queue: Workqueue;
  readonly #reconcile: ReconcileFn;
  readonly #concurrency: number;
  readonly #timeoutMs: number;
  readonly #releaseAfterAbortMs: number;
  readonly #logger: Logger;
  readonly #metrics: OperatorMetrics | undefined;
  readonly #timers: Timers;
  readonly #inFlight = new Map<string, AbortController>();
  #workers: Promise<void>[] = [];
  #started = false;
  #stopping = false;

  constructor(options: ControllerOptions) {
    this.name = options.name;
    this.#reconcile = options.reconcile;
    this.#concurrency = Math.max(1, options.concurrency ?? 1);
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#releaseAfterAbortMs = options.releaseAfterAbortMs ?? 5_000;
    this.#logger = (options.logger ?? silentLogger).child({ controller: options.name });
    this.#metrics = options.metrics;
    this.#timers = options.timers ?? systemTimers;
    this.queue = new Workqueue({
      timers: this.#timers,
      ...(options.rateLimiter ? { rateLimiter: options.rateLimiter } : {}),
      ...(options.metrics ? { metrics: options.metrics.workqueueMetricsFor(options.name) } : {}),
    });
    if (this.#metrics) {
      const labels = { controller: this.name };
      this.#metrics.maxConcurrentReconciles.set(labels, this.#concurrency);
      this.#metrics.activeWorkers.set(labels, 0);
      for (const result of ['success', 'error', 'requeue', 'requeue_after'] as const) {
        this.#metrics.reconcileTotal.inc({ controller: this.name, result }, 0);
      }
      this.#metrics.reconcileErrorsTotal.inc(labels, 0);
      this.#metrics.terminalReconcileErrorsTotal.inc(labels, 0);
    }
  }

  /** Queues a key (deduplicated). Safe to call before start(): keys wait for the workers. */
  enqueue(key: string): void {
    this.queue.add(key);
  }

  enqueueAfter(key: string, ms: number): void {
    this.queue.addAfter(key, ms);
  }

  /** Starts the workers. Calling it twice is a no-op. */
  start(): void {
    if (this.#started || this.#stopping) return;
    this.#started = true;
    this.#logger.info({ concurrency: this.#concurrency }, 'controller starting workers');
    for (let i = 0; i < this.#concurrency; i++) this.#workers.push(this.#worker());
  }

  get started(): boolean {
    return this.#started;
  }

  /** Keys being reconciled right now. */
  inFlight(): string[] {
    return [...this.#inFlight.keys()];
  }

  /**
   * Stops taking keys; waits up to graceMs for in-flight reconciles, then aborts their signals and
   * waits up to abandonMs more. Queued keys are dropped (the next leader relists everything).
   */
  async stop(options: StopOptions = {}): Promise<StopResult> {
    this.#stopping = true;
    this.queue.shutdown();
    const grace = options.graceMs ?? 30_000;
    const abandonMs = options.abandonMs ?? 5_000;
    if (!(await this.#waitIdle(grace))) {
      this.#logger.warn({ keys: this.inFlight() }, 'in-flight reconciles did not finish in time; aborting them');
      this.#abortAll('ControllerStopping', 'the controller is shutting down');
      await this.#waitIdle(abandonMs);
    }
    const abandoned = this.inFlight();
    this.#logger.info({ abandoned }, 'controller stopped');
    return { abandoned };
  }

  /** Stops at once (lost leadership): no new keys, every in-flight reconcile's signal aborted. */
  abort(reason = 'the operator lost leadership'): void {
    this.#stopping = true;
    this.queue.shutdown();
    this.#abortAll('LeaderElectionLost', reason);
  }

  /** Resolves when every worker has exited (after stop()/abort() and in-flight work returned). */
  async whenStopped(): Promise<void> {
    await Promise.all(this.#workers);
  }

  #abortAll(reason: Reason, message: string): void {
    for (const controller of this.#inFlight.values()) {
      controller.abort(new OperatorError(reason, message, { terminal: true }));
    }
  }

  async #waitIdle(ms: number): Promise<boolean> {
    if (this.#inFlight.size === 0) return true;
    let handle: TimerHandle | undefined;
    const timeout = new Promise<false>((resolve) => {
      handle = this.#timers.setTimeout(() => resolve(false), ms);
    });
    const idle = this.queue.whenIdle().then(() => true as const);
    const result = await Promise.race([idle, timeout]);
    this.#timers.clearTimeout(handle);
    return result;
  }

  async #worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      let release!: () => void;
      const released = new Promise<'released'>((resolve) => (release = () => resolve('released')));
      const run = this.#process(key, release).finally(() => this.queue.done(key));
      if ((await Promise.race([run.then(() => 'done' as const), released])) === 'released') {
        this.#logger.warn(
          { key, releaseAfterAbortMs: this.#releaseAfterAbortMs },
          'timed-out reconcile ignores its abort signal; freeing its worker (the key stays busy until it returns)',
        );
      }
    }
  }

  /** `release` frees the worker: called releaseAfterAbortMs after a timeout abort if still running. */
  async #process(key: string, release: () => void): Promise<void> {
    const labels = { controller: this.name };
    const abort = new AbortController();
    this.#inFlight.set(key, abort);
    this.#metrics?.activeWorkers.inc(labels);
    const { namespace, name } = splitKey(key);
    const retries = this.queue.numRequeues(key);
    const logger = this.#logger.child({ key, reconcileID: randomUUID() });
    let timedOut = false;
    let releaseTimer: TimerHandle | undefined;
    const timer =
      this.#timeoutMs > 0
        ? this.#timers.setTimeout(() => {
            timedOut = true;
            logger.warn({ timeoutMs: this.#timeoutMs }, 'reconcile timed out; aborting it');
            abort.abort(
              new OperatorError('ReconcileTimeout', `reconcile of ${key} took longer than ${this.#timeoutMs} ms`),
            );
            releaseTimer = this.#timers.setTimeout(release, this.#releaseAfterAbortMs);
          }, this.#timeoutMs)
        : undefined;
    const started = this.#timers.now();
    let outcome: ReconcileResultLabel;
    try {
      const context: ReconcileContext = { key, namespace, name, signal: abort.signal, logger, retries };
      const result = (await Promise.resolve().then(() => this.#reconcile(key, context))) ?? {};
      if (timedOut) throw abort.signal.reason;
      outcome = this.#onSuccess(key, result, logger);
    } catch (error) {
      outcome = 'error';
      this.#onError(key, error, abort.signal, logger);
    } finally {
      this.#timers.clearTimeout(timer);
      this.#timers.clearTimeout(releaseTimer);
      this.#inFlight.delete(key);
      this.#metrics?.activeWorkers.dec(labels);
    }
    this.#metrics?.reconcileTotal.inc({ controller: this.name, result: outcome });
    this.#metrics?.reconcileTimeSeconds.observe(labels, (this.#timers.now() - started) / 1000);
  }

  #onSuccess(key: string, result: ReconcileResult, logger: Logger): ReconcileResultLabel {
    if (result.requeueAfterMs !== undefined && result.requeueAfterMs > 0) {
      this.queue.forget(key);
      this.queue.addAfter(key, result.requeueAfterMs);
      logger.debug({ requeueAfterMs: result.requeueAfterMs }, 'reconciled; requeue scheduled');
      return 'requeue_after';
    }
    if (result.requeue) {
      this.queue.addRateLimited(key);
      logger.debug('reconciled; requeue requested');
      return 'requeue';
    }
    this.queue.forget(key);
    logger.debug('reconciled');
    return 'success';
  }

  #onError(key: string, error: unknown, signal: AbortSignal, logger: Logger): void {
    const labels = { controller: this.name };
    this.#metrics?.reconcileErrorsTotal.inc(labels);
    if (!(error instanceof Error) || error instanceof ReferenceError) {
      // The closest thing JavaScript has to a Go panic: a bug, not an operational failure. (TypeError is
      // not counted: undici reports network failures as TypeError('fetch failed').)
      this.#metrics?.reconcilePanicsTotal.inc(labels);
    }
    const reason = isOperatorError(error) ? error.reason : 'InternalError';
    const message = describeError(error);
    if (this.#stopping && signal.aborted) {
      logger.info({ reason, error: message }, 'reconcile abandoned by shutdown');
      return;
    }
    if (isOperatorError(error) && error.terminal) {
      this.#metrics?.terminalReconcileErrorsTotal.inc(labels);
      this.queue.forget(key);
      logger.error({ reason, error: message }, 'reconcile failed with a terminal error; not retrying');
      return;
    }
    this.queue.addRateLimited(key);
    logger.error(
      { reason, error: message, retries: this.queue.numRequeues(key) },
      'reconcile failed; retrying with backoff',
    );
  }
}
