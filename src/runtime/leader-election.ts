// Leader election on a coordination.k8s.io/v1 Lease, with client-go's algorithm and defaults (15 s
// lease, 10 s renew deadline, 2 s retry). A candidate takes the Lease when it is absent, released, or
// not renewed for leaseDuration as observed on the local clock (no cross-node clock comparison); the
// leader renews every retryPeriod and steps down at once (onStoppedLeading) when it has not renewed
// within renewDeadline, even if the API call hangs. stop() releases the Lease so a successor need not wait.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { silentLogger, type Logger } from '../observability/logger.ts';
import type { OperatorMetrics } from '../observability/metrics.ts';
import { apiErrorMessage, isConflict, isNotFound, microTime, type KubeClient } from './kube.ts';
import { systemTimers, type TimerHandle, type Timers } from './timers.ts';

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace: string; resourceVersion?: string; [k: string]: unknown };
  spec?: LeaseSpec;
}

/** The seam to the API server (kubeLeaseClient is the real one). Conflicts are errors with code 409. */
export interface LeaseClient {
  get(namespace: string, name: string): Promise<Lease | undefined>;
  create(lease: Lease): Promise<Lease>;
  replace(lease: Lease): Promise<Lease>;
}

export interface LeaderElectorOptions {
  client: LeaseClient;
  namespace: string;
  /** Lease name, e.g. "lokdarpan-operator". */
  name: string;
  /** Unique per replica: see leaderIdentity(). */
  identity: string;
  /** Default 15 s. */
  leaseDurationMs?: number;
  /** Default 10 s; must be less than leaseDurationMs. */
  renewDeadlineMs?: number;
  /** Default 2 s. */
  retryPeriodMs?: number;
  onStartedLeading?: () => void;
  onStoppedLeading?: () => void;
  /** Called when the observed holder changes (including to this replica). */
  onNewLeader?: (identity: string) => void;
  timers?: Timers;
  logger?: Logger;
  metrics?: OperatorMetrics;
  random?: () => number;
}

/** `<pod name or hostname>_<random>`: unique even when a pod restarts with the same name. */
export function leaderIdentity(podName?: string): string {
  return `${podName || hostname()}_${randomBytes(4).toString('hex')}`;
}

type State = 'idle' | 'candidate' | 'leader' | 'stopped';

export class LeaderElector {
  readonly #client: LeaseClient;
  readonly #namespace: string;
  readonly #name: string;
  readonly identity: string;
  readonly #leaseMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryMs: number;
  readonly #timers: Timers;
  readonly #logger: Logger;
  readonly #metrics: OperatorMetrics | undefined;
  readonly #random: () => number;
  readonly #onStarted: () => void;
  readonly #onStopped: () => void;
  readonly #onNewLeader: (identity: string) => void;
  #state: State = 'idle';
  #tickTimer: TimerHandle | undefined;
  #deadlineTimer: TimerHandle | undefined;
  #observedRecord = '';
  #observedAt = 0;
  #observedHolder = '';
  #inFlight: Promise<void> | undefined;
  /** Local time at which the last successful acquire/renew request started (the renewTime it wrote). */
  #renewedAt = Number.NEGATIVE_INFINITY;

  constructor(options: LeaderElectorOptions) {
    this.#client = options.client;
    this.#namespace = options.namespace;
    this.#name = options.name;
    this.identity = options.identity;
    this.#leaseMs = options.leaseDurationMs ?? 15_000;
    this.#renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.#retryMs = options.retryPeriodMs ?? 2_000;
    if (this.#renewDeadlineMs >= this.#leaseMs) throw new Error('renewDeadlineMs must be less than leaseDurationMs');
    if (this.#retryMs >= this.#renewDeadlineMs) throw new Error('retryPeriodMs must be less than renewDeadlineMs');
    this.#timers = options.timers ?? systemTimers;
    // `replica`, not `identity`: the logger redacts every `identity` field (age identities are secrets).
    this.#logger = (options.logger ?? silentLogger).child({ lease: `${options.namespace}/${options.name}`, replica: options.identity });
    this.#metrics = options.metrics;
    this.#random = options.random ?? Math.random;
    this.#onStarted = options.onStartedLeading ?? (() => {});
    this.#onStopped = options.onStoppedLeading ?? (() => {});
    this.#onNewLeader = options.onNewLeader ?? (() => {});
    this.#metrics?.leaderElectionMasterStatus.set({ name: this.#name }, 0);
  }

  /** Starts competing for the Lease. */
  start(): void {
    if (this.#state !== 'idle') return;
    this.#state = 'candidate';
    this.#logger.info('leader election: candidate');
    this.#schedule(0);
  }

  isLeader(): boolean {
    return this.#state === 'leader';
  }

  /**
   * Leading and, by this replica's own clock, renewed within the renew deadline. Unlike isLeader() this turns
   * false the moment the deadline passes, even before the deadline timer has run (after a SIGSTOP or a long
   * pause, I/O callbacks may run first): the write fence asks this before every API write.
   */
  holdsLease(): boolean {
    return this.#state === 'leader' && this.#timers.now() - this.#renewedAt < this.#renewDeadlineMs;
  }

  /** True while started and not stopped (for /readyz). */
  get participating(): boolean {
    return this.#state === 'candidate' || this.#state === 'leader';
  }

  /** The holder this replica last observed ('' if none). */
  get observedLeader(): string {
    return this.#observedHolder;
  }

  /**
   * Stops competing. If leading: onStoppedLeading, then (release: true, the default) the Lease is
   * released so another replica takes over at once. release: false simulates a crash.
   */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    const wasLeader = this.#state === 'leader';
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    this.#timers.clearTimeout(this.#tickTimer);
    this.#timers.clearTimeout(this.#deadlineTimer);
    if (wasLeader) this.#stepDown('stopping');
    // Let a renewal in progress finish (bounded: a hung request must not block shutdown).
    if (this.#inFlight) {
      let handle: TimerHandle | undefined;
      const bound = new Promise<void>((resolve) => {
        handle = this.#timers.setTimeout(resolve, this.#retryMs);
      });
      await Promise.race([this.#inFlight.catch(() => {}), bound]);
      this.#timers.clearTimeout(handle);
    }
    if (wasLeader && (options.release ?? true)) await this.#release();
  }

  #schedule(ms: number): void {
    if (this.#state !== 'candidate' && this.#state !== 'leader') return;
    this.#timers.clearTimeout(this.#tickTimer);
    this.#tickTimer = this.#timers.setTimeout(() => {
      this.#inFlight = this.#tick();
    }, ms);
  }

  async #tick(): Promise<void> {
    const state = this.#state;
    if (state !== 'candidate' && state !== 'leader') return;
    let ok = false;
    try {
      ok = await this.#tryAcquireOrRenew();
    } catch (error) {
      this.#logger.warn({ error: apiErrorMessage(error) }, 'leader election: lease request failed');
    }
    if (this.#state !== state) return; // stopped or stepped down meanwhile
    if (state === 'candidate') {
      if (ok) this.#becomeLeader();
      // client-go jitters acquire attempts by up to 20 %.
      this.#schedule(ok ? this.#retryMs : Math.round(this.#retryMs * (1 + 0.2 * this.#random())));
      return;
    }
    if (ok) this.#armDeadline();
    else if (this.#observedHolder !== '' && this.#observedHolder !== this.identity) {
      this.#stepDown(`lease taken by ${this.#observedHolder}`);
      return;
    }
    this.#schedule(this.#retryMs);
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const nowMs = this.#timers.now();
    const now = microTime(new Date(nowMs));
    const lease = await this.#client.get(this.#namespace, this.#name);
    if (!lease) {
      const spec: LeaseSpec = {
        holderIdentity: this.identity,
        leaseDurationSeconds: Math.ceil(this.#leaseMs / 1000),
        acquireTime: now,
        renewTime: now,
        leaseTransitions: 0,
      };
      try {
        await this.#client.create({
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.#name, namespace: this.#namespace },
          spec,
        });
      } catch (error) {
        if (isConflict(error)) return false;
        throw error;
      }
      this.#observe(spec, nowMs);
      this.#renewedAt = nowMs;
      return true;
    }
    const record = lease.spec ?? {};
    this.#observe(record, nowMs);
    const holder = record.holderIdentity ?? '';
    const durationMs = (record.leaseDurationSeconds ?? Math.ceil(this.#leaseMs / 1000)) * 1000;
    if (holder !== '' && holder !== this.identity && this.#observedAt + durationMs > nowMs) return false;
    const spec: LeaseSpec = {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(this.#leaseMs / 1000),
      acquireTime: holder === this.identity && record.acquireTime ? record.acquireTime : now,
      renewTime: now,
      leaseTransitions: holder === this.identity ? (record.leaseTransitions ?? 0) : (record.leaseTransitions ?? 0) + 1,
    };
    try {
      await this.#client.replace({ ...lease, spec });
    } catch (error) {
      if (isConflict(error)) return false;
      throw error;
    }
    this.#observe(spec, nowMs);
    this.#renewedAt = nowMs;
    return true;
  }

  #observe(record: LeaseSpec, nowMs: number): void {
    const serialized = JSON.stringify([record.holderIdentity ?? '', record.renewTime ?? '', record.leaseTransitions ?? 0]);
    if (serialized !== this.#observedRecord) {
      this.#observedRecord = serialized;
      this.#observedAt = nowMs;
    }
    const holder = record.holderIdentity ?? '';
    if (holder !== this.#observedHolder) {
      this.#observedHolder = holder;
      if (holder) {
        this.#logger.info({ leader: holder }, 'leader election: new leader observed');
        safely(() => this.#onNewLeader(holder), this.#logger);
      }
    }
  }

  #becomeLeader(): void {
    this.#state = 'leader';
    this.#metrics?.leaderElectionMasterStatus.set({ name: this.#name }, 1);
    this.#logger.info('leader election: acquired the lease; leading');
    this.#armDeadline();
    safely(this.#onStarted, this.#logger);
  }

  /** The leader must renew within renewDeadline of its last renewal, whatever the API does. */
  #armDeadline(): void {
    this.#timers.clearTimeout(this.#deadlineTimer);
    this.#deadlineTimer = this.#timers.setTimeout(() => {
      if (this.#state === 'leader') this.#stepDown('could not renew the lease within the renew deadline');
    }, this.#renewDeadlineMs);
  }

  #stepDown(why: string): void {
    this.#timers.clearTimeout(this.#deadlineTimer);
    this.#metrics?.leaderElectionMasterStatus.set({ name: this.#name }, 0);
    this.#logger.warn({ why }, 'leader election: stopped leading');
    if (this.#state === 'leader') this.#state = 'stopped';
    safely(this.#onStopped, this.#logger);
  }

  async #release(): Promise<void> {
    try {
      const lease = await this.#client.get(this.#namespace, this.#name);
      if (!lease || lease.spec?.holderIdentity !== this.identity) return;
      const now = microTime(new Date(this.#timers.now()));
      const spec: LeaseSpec = {
        leaseDurationSeconds: 1,
        acquireTime: now,
        renewTime: now,
        leaseTransitions: lease.spec.leaseTransitions ?? 0,
      };
      await this.#client.replace({ ...lease, spec });
      this.#logger.info('leader election: released the lease');
    } catch (error) {
      this.#logger.warn({ error: apiErrorMessage(error) }, 'leader election: could not release the lease');
    }
  }
}

function safely(fn: () => void, logger: Logger): void {
  try {
    fn();
  } catch (error) {
    logger.error({ error: apiErrorMessage(error) }, 'leader election callback threw');
  }
}

/** LeaseClient on coordination.k8s.io/v1. */
export function kubeLeaseClient(client: KubeClient): LeaseClient {
  const path = (ns: string, name?: string): string =>
    `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(ns)}/leases${name ? `/${encodeURIComponent(name)}` : ''}`;
  return {
    async get(namespace, name) {
      try {
        return await client.get<Lease>(path(namespace, name));
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    create: (lease) => client.create<Lease>(path(lease.metadata.namespace), lease),
    replace: (lease) => client.replace<Lease>(path(lease.metadata.namespace, lease.metadata.name), lease),
  };
}
