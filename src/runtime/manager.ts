// Composition of the runtime pieces, in controller-runtime's order: the health/metrics server first,
// then informers (caches), then leader election, then the controllers, which run only while this
// replica leads. Losing the lease closes the write fence (no status or event write from here on), aborts
// in-flight reconciles at once, waits only the short abandon time for them (never the grace period) and
// ends the manager (exit code 1: the pod restarts as a fresh candidate). SIGTERM/SIGINT: stop taking
// work, wait up to the grace period for in-flight reconciles, release the lease, stop the watches, close
// the server.
import type { HealthServer } from '../observability/health.ts';
import { silentLogger, type Logger } from '../observability/logger.ts';
import type { Controller } from './controller.ts';
import type { Fence } from './fence.ts';
import { LeaderElector, type LeaderElectorOptions } from './leader-election.ts';

/** What the manager needs of an informer (any Informer<T> fits). */
export interface ManagedInformer {
  readonly name: string;
  start(): void;
  stop(): Promise<void>;
  hasSynced(): boolean;
  whenSynced(): Promise<void>;
}

export type LeaderElectionConfig = Omit<LeaderElectorOptions, 'onStartedLeading' | 'onStoppedLeading' | 'logger' | 'metrics'>;

export interface ManagerOptions {
  logger?: Logger;
  /** Started first and closed last; gets the manager's health and readiness checks. */
  health?: HealthServer;
  informers?: ManagedInformer[];
  controllers?: Controller[];
  /** Omit to run the controllers as soon as the caches have synced (single replica, tests). */
  leaderElection?: LeaderElectionConfig;
  /** Passed to the LeaderElector (leader_election_master_status). */
  metrics?: LeaderElectorOptions['metrics'];
  /** How long SIGTERM waits for in-flight reconciles. Default 30 s. */
  shutdownGraceMs?: number;
  /** After their signals are aborted, how long to wait for reconciles to return. Default min(5 s, grace). */
  abandonMs?: number;
  /**
   * The replica's write fence (given to the status writer and event recorder): closed when leadership is
   * lost, and guarded by the elector's renew deadline while leading.
   */
  fence?: Fence;
  /**
   * Awaited after the controllers have stopped and before the Lease is released, for at most drainMs
   * (default 5 s): writes still queued when the last reconcile returned (background events).
   */
  drain?: () => Promise<void>;
  drainMs?: number;
}

export interface ManagerExit {
  reason: 'stopped' | 'signal' | 'leadership-lost' | 'start-failed';
  /** Suggested process exit code. */
  code: number;
  /** Reconciles still running when the controllers were abandoned. */
  abandoned: string[];
}

export class Manager {
  readonly #logger: Logger;
  readonly #health: HealthServer | undefined;
  readonly #informers: ManagedInformer[];
  readonly #controllers: Controller[];
  readonly #graceMs: number;
  readonly #abandonMs: number;
  readonly #fence: Fence | undefined;
  readonly #drain: (() => Promise<void>) | undefined;
  readonly #drainMs: number;
  readonly elector: LeaderElector | undefined;
  #state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  #resolveDone!: (exit: ManagerExit) => void;
  /** Resolves once the manager has fully stopped. */
  readonly done: Promise<ManagerExit>;
  #stopPromise: Promise<ManagerExit> | undefined;

  constructor(options: ManagerOptions) {
    this.#logger = (options.logger ?? silentLogger).child({ component: 'manager' });
    this.#health = options.health;
    this.#informers = options.informers ?? [];
    this.#controllers = options.controllers ?? [];
    this.#graceMs = options.shutdownGraceMs ?? 30_000;
    this.#abandonMs = options.abandonMs ?? Math.min(5000, this.#graceMs);
    this.#fence = options.fence;
    this.#drain = options.drain;
    this.#drainMs = options.drainMs ?? 5000;
    this.done = new Promise((resolve) => (this.#resolveDone = resolve));
    if (options.leaderElection) {
      this.elector = new LeaderElector({
        ...options.leaderElection,
        logger: options.logger ?? silentLogger,
        ...(options.metrics ? { metrics: options.metrics } : {}),
        onStartedLeading: () => this.#startControllers(),
        onStoppedLeading: () => this.#lostLeadership(),
      });
      const elector = this.elector;
      this.#fence?.setGuard(() => elector.holdsLease());
    }
    this.#health?.addHealthCheck('ping', () => true);
    this.#health?.addReadyCheck('informers-synced', () => this.#informers.every((i) => i.hasSynced()));
    if (this.elector) this.#health?.addReadyCheck('leader-election', () => this.elector?.participating ?? false);
    this.#health?.addReadyCheck('manager', () => this.#state === 'running');
  }

  /** Starts everything; resolves when caches have synced and leader election (if any) has begun. */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new Error('a manager starts once');
    this.#state = 'starting';
    try {
      await this.#health?.listen();
      for (const informer of this.#informers) informer.start();
      this.#logger.info({ informers: this.#informers.map((i) => i.name) }, 'waiting for caches to sync');
      await Promise.race([
        Promise.all(this.#informers.map((i) => i.whenSynced())),
        this.done.then(() => undefined),
      ]);
      if (this.#state !== 'starting') return;
      this.#state = 'running';
      if (this.elector) this.elector.start();
      else this.#startControllers();
    } catch (error) {
      this.#logger.error({ error: error instanceof Error ? error.message : String(error) }, 'manager failed to start');
      await this.#stop('start-failed', 1);
      throw error;
    }
  }

  /** True when caches are synced and (with leader election) this replica is participating. */
  isReady(): boolean {
    return (
      this.#state === 'running' &&
      this.#informers.every((i) => i.hasSynced()) &&
      (this.elector ? this.elector.participating : true)
    );
  }

  /** The shutdown bounds: grace for in-flight work, then the abandon wait after aborting it. */
  get shutdownBudgetMs(): number {
    return this.#graceMs + this.#abandonMs;
  }

  /** Graceful stop (idempotent). */
  stop(reason: ManagerExit['reason'] = 'stopped'): Promise<ManagerExit> {
    return this.#stop(reason, 0);
  }

  /** SIGTERM / SIGINT -> stop('signal'). Returns a function that removes the handlers. */
  installSignalHandlers(proc: NodeJS.Process = process): () => void {
    const handler = (signal: NodeJS.Signals): void => {
      this.#logger.info({ signal }, 'signal received; shutting down');
      void this.stop('signal');
    };
    proc.on('SIGTERM', handler);
    proc.on('SIGINT', handler);
    return () => {
      proc.off('SIGTERM', handler);
      proc.off('SIGINT', handler);
    };
  }

  #startControllers(): void {
    if (this.#state !== 'running') return;
    this.#logger.info({ controllers: this.#controllers.map((c) => c.name) }, 'starting controllers');
    for (const c of this.#controllers) c.start();
  }

  #lostLeadership(): void {
    if (this.#state === 'stopping' || this.#state === 'stopped') return;
    this.#fence?.close('this replica lost the leader Lease');
    this.#logger.error({ abandonMs: this.#abandonMs }, 'leadership lost; no more API writes, aborting reconciles at once');
    for (const c of this.#controllers) c.abort();
    void this.#stop('leadership-lost', 1);
  }

  async #drainQueuedWrites(): Promise<void> {
    if (!this.#drain) return;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.#drainMs);
      timer.unref();
    });
    const drained = this.#drain().then(
      () => 'drained' as const,
      (error: unknown) => {
        this.#logger.warn({ error: error instanceof Error ? error.message : String(error) }, 'queued writes failed while draining');
        return 'drained' as const;
      },
    );
    if ((await Promise.race([drained, timedOut])) === 'timeout') this.#logger.warn({ drainMs: this.#drainMs }, 'queued writes not all sent before shutdown');
    clearTimeout(timer);
  }

  #stop(reason: ManagerExit['reason'], code: number): Promise<ManagerExit> {
    this.#stopPromise ??= this.#doStop(reason, code);
    return this.#stopPromise;
  }

  async #doStop(reason: ManagerExit['reason'], code: number): Promise<ManagerExit> {
    this.#state = 'stopping';
    // A deposed leader must not go on working through the grace period: its work is already aborted.
    const graceMs = reason === 'leadership-lost' ? 0 : this.#graceMs;
    this.#logger.info({ reason, graceMs, abandonMs: this.#abandonMs }, 'manager stopping');
    const results = await Promise.all(this.#controllers.map((c) => c.stop({ graceMs, abandonMs: this.#abandonMs })));
    const abandoned = results.flatMap((r) => r.abandoned);
    await this.#drainQueuedWrites();
    // Release the lease only after our reconciles are done, so the next leader never overlaps with us.
    await this.elector?.stop({ release: true });
    await Promise.all(this.#informers.map((i) => i.stop()));
    await this.#health?.close();
    this.#state = 'stopped';
    const exit: ManagerExit = { reason, code, abandoned };
    this.#logger.info(exit, 'manager stopped');
    this.#resolveDone(exit);
    return exit;
  }
}

/**
 * The operator's main loop: installs SIGTERM/SIGINT handlers, starts the manager, waits until it has
 * stopped (signal, lost leadership or a start failure) and sets process.exitCode from the result.
 */
export async function runUntilStopped(manager: Manager, proc: NodeJS.Process = process): Promise<ManagerExit> {
  const removeHandlers = manager.installSignalHandlers(proc);
  try {
    await manager.start();
  } catch {
    // start() already stopped the manager; done carries the exit.
  }
  const exit = await manager.done;
  removeHandlers();
  proc.exitCode = exit.code;
  return exit;
}
