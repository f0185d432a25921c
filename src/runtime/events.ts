// Kubernetes events (events.k8s.io/v1) for the objects the operator manages: reportingController
// `lokdarpan.io/operator`, a MicroTime eventTime, and aggregation: an identical event (same object,
// type, reason, action, note) within the series window bumps series.count on the existing Event, at
// most once per minSeriesUpdateMs, so a retry loop cannot flood etcd. Recording never throws.
import { randomBytes } from 'node:crypto';
import { systemClock, type Clock } from '../clock.ts';
import { silentLogger, type Logger } from '../observability/logger.ts';
import type { Fence } from './fence.ts';
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
}

interface Tracked {
  namespace: string;
  name: string;
  count: number;
  lastSeen: number;
  lastWrite: number;
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

  constructor(options: EventRecorderOptions) {
    this.#fence = options.fence;
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

  /** Creates the event or counts it into its series. Logs and swallows API errors. */
  async record(regarding: EventObjectRef, input: EventInput): Promise<void> {
    if (this.#fence?.closed) {
      this.#logger.info({ reason: input.reason, object: `${regarding.kind}/${regarding.name}` }, 'event not recorded: this replica no longer leads');
      return;
    }
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
    const tracked = this.#tracked.get(key);
    try {
      if (tracked && nowMs - tracked.lastSeen < this.#windowMs) {
        tracked.count++;
        tracked.lastSeen = nowMs;
        // Refresh the entry's place in insertion order (oldest first eviction).
        this.#tracked.delete(key);
        this.#tracked.set(key, tracked);
        if (nowMs - tracked.lastWrite < this.#minUpdateMs) return;
        if (this.#fence?.closed) return;
        try {
          await this.#sink.patchSeries(tracked.namespace, tracked.name, {
            count: tracked.count,
            lastObservedTime: microTime(now),
          });
          tracked.lastWrite = nowMs;
          return;
        } catch (error) {
          if (!isNotFound(error)) throw error;
          // The Event expired (TTL) or was deleted: start a new one below.
        }
      }
      const namespace = regarding.namespace || 'default';
      const name = `${regarding.name}.${nowMs.toString(16)}${randomBytes(3).toString('hex')}`.slice(-253);
      const body: EventBody = {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name, namespace },
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
      if (this.#fence?.closed) return;
      await this.#sink.create(namespace, body);
      this.#tracked.delete(key);
      this.#tracked.set(key, { namespace, name, count: 1, lastSeen: nowMs, lastWrite: nowMs });
      this.#evict(nowMs);
    } catch (error) {
      this.#logger.warn(
        { reason: input.reason, object: `${regarding.kind}/${regarding.name}`, error: apiErrorMessage(error) },
        'could not record event',
      );
    }
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
