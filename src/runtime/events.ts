// Kubernetes events (events.k8s.io/v1) for the objects the operator manages: reportingController
// `lokdarpan.io/operator`, a MicroTime eventTime, and aggregation: an identical event (same object,
// type, reason, action, note) within the series window bumps series.count on the existing Event, at
// most once per minSeriesUpdateMs, so a retry loop cannot flood etcd. Recording never throws. In background
// mode (the operator's) a reconcile only queues its events: a few writers send them, so a burst of events
// neither holds the workers nor crowds the status writes out of the API rate limiter.
import { randomBytes } from 'node:crypto';
import { systemClock, type Clock } from '../clock.ts';
import { silentLogger, type Logger } from '../observability/logger.ts';
import type { Fence } from './fence.ts';
import { Semaphore } from './semaphore.ts';
import { apiErrorMessage, isNotFound, microTime, type KubeClient, type KubeObject } from './kube.ts';

export const REPORTING_CONTROLLER = 'lokdarpan.io/operator';

export type EventType = 'Normal' | 'Warning';

/** The object an event is about (a core/v1 ObjectReference). */
export interface EventObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string | undefined;
  uid?: string | undefined;
  resourceVersion?: string | undefined;
}

export interface EventInput {
  type: EventType;
  /** CamelCase reason from the catalog. */
  reason: string;
  /** What the operator did or tried, e.g. "Migrate", "RefreshViews". */
  action: string;
  /** One human-readable line; never a secret. */
  note: string;
  related?: EventObjectRef;
}

export interface EventBody {
  apiVersion: 'events.k8s.io/v1';
  kind: 'Event';
  metadata: { name: string; namespace: string };
  eventTime: string;
  reportingController: string;
  reportingInstance: string;
  action: string;
  reason: string;
  type: EventType;
  note: string;
  regarding: EventObjectRef;
  related?: EventObjectRef;
  series?: { count: number; lastObservedTime: string };
}

/** The seam to the API server (kubeEventSink is the real one). */
export interface EventSink {
  create(namespace: string, event: EventBody): Promise<unknown>;
  /** Merge-patches the series of an existing Event. */
  patchSeries(namespace: string, name: string, series: { count: number; lastObservedTime: string }): Promise<unknown>;
}

export interface EventRecorderOptions {
  sink: EventSink;
  /** This replica, e.g. the pod name. Max 128 characters. */
  reportingInstance: string;
  reportingController?: string;
  clock?: Clock;
  logger?: Logger;
  /** Identical events closer together than this form one series. Default 6 minutes (as client-go). */
  seriesWindowMs?: number;
  /** Least time between two API writes of one series; repeats in between are only counted. Default 30 s. */
  minSeriesUpdateMs?: number;
  /** Most series remembered. Default 4096. */
  maxTracked?: number;
  /** Once closed (leadership lost), events are dropped instead of written. */
  fence?: Fence;
  /**
   * record() queues the write and returns at once, so a reconcile never waits for an event (default false:
   * record() resolves when the write is done). flush() waits for the queued ones.
   */
  background?: boolean;
  /** Event writes in flight at once, so a burst of events takes few of the API rate limiter's tokens. Default 2. */
  maxInFlight?: number;
  /** Writes waiting beyond this are dropped (and logged). Default 1000. */
  maxQueued?: number;
}

interface Tracked {
  namespace: string;
  name: string;
  count: number;
  lastSeen: number;
  /** When the last API write of this series was sent (or reserved). */
  lastWrite: number;
  /** This series' writes, one after the other (a series patch waits for its create). */
  chain: Promise<void>;
}

const NOTE_MAX = 1024;
const FIELD_MAX = 128;

export function objectRefOf(obj: KubeObject): EventObjectRef {
  return {
    apiVersion: obj.apiVersion ?? '',
    kind: obj.kind ?? '',
    name: obj.metadata?.name ?? '',
    namespace: obj.metadata?.namespace,
    uid: obj.metadata?.uid,
    resourceVersion: obj.metadata?.resourceVersion,
  };
}

export class EventRecorder {
  readonly #sink: EventSink;
  readonly #instance: string;
  readonly #controller: string;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #windowMs: number;
  readonly #minUpdateMs: number;
  readonly #maxTracked: number;
  readonly #tracked = new Map<string, Tracked>();
  readonly #fence: Fence | undefined;
  readonly #background: boolean;
  readonly #maxQueued: number;
  readonly #slots: Semaphore;
  readonly #pending = new Set<Promise<void>>();

  constructor(options: EventRecorderOptions) {
    this.#fence = options.fence;
    this.#background = options.background ?? false;
    this.#slots = new Semaphore(options.maxInFlight ?? 2);
    this.#maxQueued = options.maxQueued ?? 1000;
    this.#sink = options.sink;
    this.#instance = options.reportingInstance.slice(0, FIELD_MAX);
    this.#controller = options.reportingController ?? REPORTING_CONTROLLER;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#windowMs = options.seriesWindowMs ?? 6 * 60_000;
    this.#minUpdateMs = options.minSeriesUpdateMs ?? 30_000;
    this.#maxTracked = options.maxTracked ?? 4096;
  }

  normal(regarding: EventObjectRef, reason: string, action: string, note: string): Promise<void> {
    return this.record(regarding, { type: 'Normal', reason, action, note });
  }

  warning(regarding: EventObjectRef, reason: string, action: string, note: string): Promise<void> {
    return this.record(regarding, { type: 'Warning', reason, action, note });
  }

  /**
   * Creates the event or counts it into its series. Never throws: API errors are logged. In background mode
   * it returns once the write is queued; else once it is done.
   */
  record(regarding: EventObjectRef, input: EventInput): Promise<void> {
    if (this.#fence?.closed) {
      this.#logger.info({ reason: input.reason, object: `${regarding.kind}/${regarding.name}` }, 'event not recorded: this replica no longer leads');
      return Promise.resolve();
    }
    const what = { reason: input.reason, object: `${regarding.kind}/${regarding.name}` };
    if (this.#pending.size >= this.#maxQueued) {
      this.#logger.warn({ ...what, queued: this.#pending.size }, 'event dropped: too many event writes queued');
      return Promise.resolve();
    }
    const write = this.#plan(regarding, input);
    if (!write) return Promise.resolve();
    const done = write.catch((error: unknown) => this.#logger.warn({ ...what, error: apiErrorMessage(error) }, 'could not record event'));
    this.#pending.add(done);
    void done.finally(() => this.#pending.delete(done));
    return this.#background ? Promise.resolve() : done;
  }

  /** Resolves when every queued event write has been sent (or failed). */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
  }

  /**
   * Counts the event into its series (synchronously, so identical events queued together aggregate) and
   * returns the API write it needs, if any, chained after the series' earlier writes.
   */
  #plan(regarding: EventObjectRef, input: EventInput): Promise<void> | undefined {
    const now = this.#clock.now();
    const nowMs = now.getTime();
    const note = input.note.replace(/\s*\n\s*/g, ' ').slice(0, NOTE_MAX);
    const key = JSON.stringify([
      regarding.namespace ?? '',
      regarding.kind,
      regarding.name,
      regarding.uid ?? '',
      input.type,
      input.reason,
      input.action,
      note,
    ]);
    const body = (): EventBody => {
      const namespace = regarding.namespace || 'default';
      return {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name: `${regarding.name}.${nowMs.toString(16)}${randomBytes(3).toString('hex')}`.slice(-253), namespace },
        eventTime: microTime(now),
        reportingController: this.#controller,
        reportingInstance: this.#instance,
        action: input.action.slice(0, FIELD_MAX),
        reason: input.reason.slice(0, FIELD_MAX),
        type: input.type,
        note,
        regarding: dropUndefined(regarding),
        ...(input.related ? { related: dropUndefined(input.related) } : {}),
      };
    };
    const tracked = this.#tracked.get(key);
    if (tracked && nowMs - tracked.lastSeen < this.#windowMs) {
      tracked.count++;
      tracked.lastSeen = nowMs;
      // Refresh the entry's place in insertion order (oldest first eviction).
      this.#tracked.delete(key);
      this.#tracked.set(key, tracked);
      if (nowMs - tracked.lastWrite < this.#minUpdateMs) return undefined;
      tracked.lastWrite = nowMs;
      return this.#chain(tracked, async () => {
        try {
          await this.#sink.patchSeries(tracked.namespace, tracked.name, { count: tracked.count, lastObservedTime: microTime(new Date(tracked.lastSeen)) });
        } catch (error) {
          if (!isNotFound(error)) throw error;
          // The Event expired (TTL) or was deleted: the series goes on in a new one.
          const fresh = body();
          await this.#sink.create(fresh.metadata.namespace, fresh);
          Object.assign(tracked, { name: fresh.metadata.name, count: 1 });
        }
      });
    }
    const first = body();
    const entry: Tracked = { namespace: first.metadata.namespace, name: first.metadata.name, count: 1, lastSeen: nowMs, lastWrite: nowMs, chain: Promise.resolve() };
    this.#tracked.delete(key);
    this.#tracked.set(key, entry);
    this.#evict(nowMs);
    return this.#chain(entry, async () => {
      try {
        await this.#sink.create(first.metadata.namespace, first);
      } catch (error) {
        // Not created: the next identical event starts the series again.
        if (this.#tracked.get(key) === entry) this.#tracked.delete(key);
        throw error;
      }
    });
  }

  /** Runs `write` after the series' earlier writes, within the in-flight limit, unless the fence closed meanwhile. */
  #chain(tracked: Tracked, write: () => Promise<void>): Promise<void> {
    const run = tracked.chain.then(async () => {
      await this.#slots.acquire();
      try {
        if (!this.#fence?.closed) await write();
      } finally {
        this.#slots.release();
      }
    });
    tracked.chain = run.catch(() => {});
    return run;
  }

  /** How many series are remembered (for tests and debugging). */
  get trackedCount(): number {
    return this.#tracked.size;
  }

  #evict(nowMs: number): void {
    for (const [key, t] of this.#tracked) {
      if (this.#tracked.size <= this.#maxTracked && nowMs - t.lastSeen < this.#windowMs) break;
      this.#tracked.delete(key);
    }
  }
}

function dropUndefined(ref: EventObjectRef): EventObjectRef {
  return Object.fromEntries(Object.entries(ref).filter(([, v]) => v !== undefined && v !== '')) as unknown as EventObjectRef;
}

/** EventSink on events.k8s.io/v1. */
export function kubeEventSink(client: KubeClient): EventSink {
  const path = (ns: string, name?: string): string =>
    `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(ns)}/events${name ? `/${encodeURIComponent(name)}` : ''}`;
  return {
    create: (namespace, event) => client.create(path(namespace), event),
    patchSeries: (namespace, name, series) => client.patch(path(namespace, name), { series }, 'merge'),
  };
}
