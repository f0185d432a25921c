// Glue between one custom resource kind and the runtime: an informer that enqueues keys, a controller
// whose reconcile reads the cached object, asks the kind's reconciler for an outcome, writes that
// status through the one status writer, records the events, and retries errors with backoff.
// Status is written over the object it was computed from (its resourceVersion is the precondition; no
// write when unchanged): when someone else changed the status or the spec meanwhile, the reconcile is
// requeued to compute again from the fresh object, and its events are not recorded. A cached object that
// has not yet caught up with this process's own last status write is not reconciled at all (OwnStatusWrites):
// the key waits for the cache's next event for it.
import type { ResourceKind } from '../../api/crd.ts';
import { API_VERSION } from '../../api/common.ts';
import { OperatorError } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
import type { OperatorMetrics } from '../../observability/metrics.ts';
import { ItemExponentialFailureRateLimiter } from '../../runtime/backoff.ts';
import { Controller, type ReconcileContext } from '../../runtime/controller.ts';
import { objectRefOf, type EventRecorder } from '../../runtime/events.ts';
import { Informer, kubeListWatchSource } from '../../runtime/informer.ts';
import type { KubeClient, KubeObject, ResourceType } from '../../runtime/kube.ts';
import type { StatusWriter } from '../../runtime/status-writer.ts';
import { OwnStatusWrites } from './own-status-writes.ts';

export interface EventToRecord {
  type: 'Normal' | 'Warning';
  reason: string;
  action: string;
  note: string;
}

export interface ReconcileOutcome<S> {
  status: S;
  events: EventToRecord[];
  requeueAfterMs?: number;
  /** Written to status first, then rethrown so the controller retries with backoff (or not, if terminal). */
  error?: OperatorError;
}

/**
 * Writes an intermediate status (e.g. phase Running) before long work; the final one comes from the outcome.
 * Rejects with a StatusConflict OperatorError when the object's status or spec changed since the reconcile read
 * it (the reconcile is then requeued; stop and return), and with LeaderElectionLost after this replica stepped down.
 */
export type ProgressReporter = (status: object) => Promise<void>;

export type KindReconciler = (object: KubeObject, context: ReconcileContext, progress: ProgressReporter) => Promise<ReconcileOutcome<object>>;

export interface RuntimeParts {
  client: KubeClient;
  statusWriter: StatusWriter;
  recorder: EventRecorder;
  logger: Logger;
  metrics?: OperatorMetrics;
  /** Only this namespace (all when absent). */
  namespace?: string;
  /** How often every cached object is reconciled again although nothing changed (0: never). Default the informer's. */
  resyncMs?: number;
}

export function resourceTypeOf(kind: ResourceKind): ResourceType {
  return { apiVersion: API_VERSION, kind: kind.kind, plural: kind.plural, namespaced: true };
}

export interface ResourceControllerOptions {
  concurrency?: number;
  /** Per-reconcile timeout: the reconcile's signal is aborted and its worker freed. Default 6 hours. */
  timeoutMs?: number;
  /**
   * Skip update events that change nothing a reconcile reacts to (see triggerOf): mostly the echo of our
   * own status write, which would otherwise cost a second, no-op reconcile per change. Only for kinds whose
   * reconciler does not advance on its own status changes (it requeues or throws instead). Default false.
   */
  ignoreStatusOnlyUpdates?: boolean;
  /** Called once when an object leaves the cache (deleted), with its last cached state (metrics clean-up). */
  onDeleted?: (object: KubeObject) => void;
}

/** Retry failures from 500 ms doubling up to 5 minutes: quick for a blip, gentle for a database that is down. */
export const RECONCILE_BACKOFF = { baseDelayMs: 500, maxDelayMs: 5 * 60_000 } as const;

export function createResourceController(
  kind: ResourceKind,
  reconcile: KindReconciler,
  parts: RuntimeParts,
  options: ResourceControllerOptions = {},
): { informer: Informer<KubeObject>; controller: Controller } {
  const type = resourceTypeOf(kind);
  const name = kind.singular;
  const informer = new Informer<KubeObject>({
    name,
    source: kubeListWatchSource<KubeObject>(parts.client, { type, ...(parts.namespace ? { namespace: parts.namespace } : {}) }),
    logger: parts.logger,
    ...(parts.resyncMs === undefined ? {} : { resyncMs: parts.resyncMs }),
  });
  const ownWrites = new OwnStatusWrites();
  const controller = new Controller({
    name,
    concurrency: options.concurrency ?? 4,
    timeoutMs: options.timeoutMs ?? 6 * 60 * 60_000,
    logger: parts.logger,
    rateLimiter: new ItemExponentialFailureRateLimiter(RECONCILE_BACKOFF),
    ...(parts.metrics ? { metrics: parts.metrics } : {}),
    reconcile: async (key, context) => {
      const object = informer.get(key);
      if (!object || object.metadata?.deletionTimestamp) return {};
      if (ownWrites.isBehind(key, object)) {
        context.logger.debug({ resourceVersion: object.metadata?.resourceVersion }, 'cached object predates our own status write; waiting for the cache');
        return {};
      }
      const ref = { type, namespace: context.namespace, name: context.name };
      const generation = object.metadata?.generation === undefined ? {} : { observedGeneration: object.metadata.generation };
      // The object the next status write is based on: the cached one, then what each write returned.
      let current: KubeObject = object;
      let conflict = false;
      const write = async (status: object): Promise<'ok' | 'conflict' | 'gone'> => {
        const result = await parts.statusWriter.replaceFrom(ref, current, status as Record<string, unknown>, generation);
        if (result.outcome === 'written') {
          ownWrites.wrote(key, result.replaced ?? [], informer.get(key));
          if (result.object) current = result.object;
        }
        if (result.outcome === 'conflict') conflict = true;
        return result.outcome === 'conflict' || result.outcome === 'gone' ? result.outcome : 'ok';
      };
      const progress: ProgressReporter = async (status) => {
        if ((await write(status)) === 'conflict') {
          throw new OperatorError('StatusConflict', `the status of ${key} changed since this reconcile read it; computing it again`);
        }
      };
      let outcome: ReconcileOutcome<object>;
      try {
        outcome = await reconcile(object, context, progress);
      } catch (error) {
        if (conflict) return requeueOnConflict(context);
        throw error;
      }
      const written = await write(outcome.status);
      if (written === 'conflict' || conflict) return requeueOnConflict(context);
      if (written === 'gone') return {};
      for (const event of outcome.events) await parts.recorder.record(objectRefOf({ ...object, apiVersion: API_VERSION, kind: kind.kind }), event);
      if (outcome.events.length > 0) context.logger.debug({ events: outcome.events.map((e) => e.reason) }, 'events recorded');
      // A stalled object waits for a person (a fixed Secret or database changes nothing we watch): look
      // again every few minutes, as the old 10-minute resync did, now that the resync is hours apart.
      const stalled = isStalled(outcome.status);
      if (outcome.error) {
        if (stalled) controller.enqueueAfter(context.key, STALLED_RECHECK_MS);
        throw outcome.error;
      }
      if (outcome.requeueAfterMs !== undefined) return { requeueAfterMs: outcome.requeueAfterMs };
      return stalled ? { requeueAfterMs: STALLED_RECHECK_MS } : {};
    },
  });
  const triggers = new Map<string, string>();
  informer.onKey((key, event, object) => {
    if (event === 'delete') {
      triggers.delete(key);
      ownWrites.forget(key);
      if (object && options.onDeleted) {
        try {
          options.onDeleted(object);
        } catch (error) {
          parts.logger.warn({ key, error: error instanceof Error ? error.message : String(error) }, 'onDeleted hook threw');
        }
      }
      controller.enqueue(key);
      return;
    }
    // A reconcile skipped because the cache lagged behind our own write is not retried on a timer: the cache
    // catches up only by changing its copy of this key, and the informer emits an event whenever that copy
    // changes (watch or relist), so that event enqueues the key, even when it is the status-only echo the
    // filter below drops. Nothing lost, no polling, no added delay.
    const awaited = ownWrites.takeAwaited(key);
    // Our own status writes come back as updates that change nothing we act on: skipping them halves the
    // reconciles (controller-runtime's GenerationChanged + Annotation/LabelChanged predicates).
    const trigger = triggerOf(object);
    if (options.ignoreStatusOnlyUpdates && event === 'update' && !awaited && triggers.get(key) === trigger) return;
    triggers.set(key, trigger);
    controller.enqueue(key);
  });
  return { informer, controller };
}

/** How often a Stalled object is reconciled again without a change. */
export const STALLED_RECHECK_MS = 10 * 60_000;

function isStalled(status: object): boolean {
  const conditions = (status as { conditions?: unknown }).conditions;
  return Array.isArray(conditions) && conditions.some((c: { type?: unknown; status?: unknown }) => c?.type === 'Stalled' && c.status === 'True');
}

function requeueOnConflict(context: ReconcileContext): { requeue: true } {
  context.logger.debug('status changed since it was read; requeued to compute it again');
  return { requeue: true };
}

/** What a reconcile reacts to: the spec (generation), labels, annotations (requests), deletion and finalizers; not status. */
export function triggerOf(object: KubeObject | undefined): string {
  const m = object?.metadata;
  return JSON.stringify([m?.generation, m?.labels ?? {}, m?.annotations ?? {}, m?.deletionTimestamp ?? null, m?.finalizers ?? []]);
}

