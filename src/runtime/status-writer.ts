// The one writer of /status:
// - replaceFrom (what the controllers use): the status was computed from an object the reconcile read (the
//   informer's copy); skip the write when it equals that object's status (no API call at all), else send one
//   JSON merge patch of the status subresource, computed from that object's status, carrying its
//   resourceVersion as the precondition (the server answers 409 when the object moved). On 409 the fresh object
//   is read: when only metadata moved (same generation, same status) the write is retried on it, since it
//   overwrites nothing unread; otherwise the result is a conflict and the caller requeues.
// It refuses to write once the replica's fence is closed (leadership lost).
import { isOperatorError } from '../errors.ts';
import { silentLogger, type Logger } from '../observability/logger.ts';
import type { Fence } from './fence.ts';
import { isConflict, isNotFound, refPath, type KubeClient, type KubeObject, type ObjectRef } from './kube.ts';

/** The seam to the API server (kubeStatusClient is the real one). */
export interface StatusClient {
  /** The current object, or undefined when it does not exist. */
  get(ref: ObjectRef): Promise<KubeObject | undefined>;
  /** PUT the object to its /status subresource; metadata.resourceVersion must match (else 409). */
  replaceStatus(ref: ObjectRef, object: KubeObject): Promise<KubeObject>;
  /**
   * Merge-patches the /status subresource with `{ metadata: { resourceVersion }, status: patch }`: the server
   * refuses it with 409 when the object's resourceVersion moved. replaceFrom uses it when present (a small
   * body instead of the whole object), else replaceStatus.
   */
  patchStatus?(ref: ObjectRef, resourceVersion: string, patch: StatusRecord): Promise<KubeObject>;
}

export type StatusRecord = Record<string, unknown>;

export interface StatusWriteOptions {
  /**
   * The generation this status describes (the one the reconcile read). Default: the based-on object's
   * metadata.generation. Written as status.observedGeneration.
   */
  observedGeneration?: number;
}

export interface StatusWriterOptions {
  client: StatusClient;
  /** Tries before giving up on conflicts. Default 5. */
  maxAttempts?: number;
  logger?: Logger;
  /** Once closed, every write throws a LeaderElectionLost error instead of reaching the API server. */
  fence?: Fence;
}

export interface StatusReplaceResult {
  /**
   * unchanged: equal to the based-on object's status, nothing sent; written; conflict: someone else changed
   * the status or the spec since it was read (requeue and compute again); gone: the object no longer exists.
   */
  outcome: 'unchanged' | 'written' | 'conflict' | 'gone';
  /** After a write, the object as the API server returned it (the base of a later write); else the based-on one. */
  object: KubeObject | undefined;
  /**
   * After a write, the resourceVersions it was based on: basedOn's, then those of the fresh objects a
   * metadata-only conflict retried on. The write superseded each: a copy at one of them lacks its status.
   */
  replaced?: string[];
}

export class StatusWriter {
  readonly #client: StatusClient;
  readonly #maxAttempts: number;
  readonly #logger: Logger;
  readonly #fence: Fence | undefined;

  constructor(options: StatusWriterOptions) {
    this.#client = options.client;
    this.#maxAttempts = options.maxAttempts ?? 5;
    this.#logger = options.logger ?? silentLogger;
    this.#fence = options.fence;
  }

  /**
   * Replaces the status of `basedOn` (the object the status was computed from) with `status`, with
   * basedOn's resourceVersion as the precondition. No API call when the status is unchanged.
   */
  async replaceFrom(ref: ObjectRef, basedOn: KubeObject, status: StatusRecord, options: StatusWriteOptions = {}): Promise<StatusReplaceResult> {
    const before = (basedOn['status'] ?? {}) as StatusRecord;
    const after: StatusRecord = { ...status };
    const generation = options.observedGeneration ?? basedOn.metadata?.generation;
    if (generation !== undefined) after['observedGeneration'] = generation;
    if (stableEqual(before, after)) return { outcome: 'unchanged', object: basedOn };
    let target = basedOn;
    const tried: string[] = [];
    for (let attempt = 1; attempt <= this.#maxAttempts; attempt++) {
      this.#fence?.assertOpen(`write the status of ${describeRef(ref)}`);
      if (target.metadata?.resourceVersion !== undefined) tried.push(target.metadata.resourceVersion);
      try {
        return { outcome: 'written', object: await this.#send(ref, target, after), replaced: tried };
      } catch (error) {
        if (isNotFound(error)) return { outcome: 'gone', object: undefined };
        if (!isConflict(error)) throw error;
      }
      const fresh = await this.#client.get(ref);
      if (!fresh) return { outcome: 'gone', object: undefined };
      const sameSpec = fresh.metadata?.generation === basedOn.metadata?.generation;
      if (!sameSpec || !stableEqual(fresh['status'] ?? {}, before)) {
        this.#logger.debug({ name: ref.name, namespace: ref.namespace }, 'status changed since it was read; not overwriting it');
        return { outcome: 'conflict', object: fresh };
      }
      // Only metadata (labels, annotations, finalizers) moved: our status replaces exactly what we read.
      target = fresh;
    }
    return { outcome: 'conflict', object: undefined };
  }

  /** A merge patch from target's status when the client can patch and target has a resourceVersion; else a PUT. */
  #send(ref: ObjectRef, target: KubeObject, status: StatusRecord): Promise<KubeObject> {
    const resourceVersion = target.metadata?.resourceVersion;
    if (this.#client.patchStatus && resourceVersion) {
      return this.#client.patchStatus(ref, resourceVersion, mergePatchOf((target['status'] ?? {}) as StatusRecord, status));
    }
    return this.#client.replaceStatus(ref, { ...target, status });
  }
}

function describeRef(ref: ObjectRef): string {
  return `${ref.type.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
}

/** Deep equality of JSON values, ignoring object key order; undefined-valued keys count as absent. */
export function stableEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => stableEqual(v, b[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => stableEqual(ao[k], bo[k]));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/**
 * The RFC 7386 JSON merge patch that turns `before` into `after`: changed and new keys with their new value
 * (objects recursively, arrays whole), removed keys as null. A null in `after` also reads as removal, as
 * merge patch cannot say "set to null"; statuses do not use null.
 */
export function mergePatchOf(before: StatusRecord, after: StatusRecord): StatusRecord {
  const patch: StatusRecord = {};
  for (const key of Object.keys(before)) {
    if (before[key] !== undefined && after[key] === undefined) patch[key] = null;
  }
  for (const [key, value] of Object.entries(after)) {
    if (value === undefined) continue;
    const old = before[key];
    if (isPlainObject(old) && isPlainObject(value)) {
      const inner = mergePatchOf(old, value);
      if (Object.keys(inner).length > 0) patch[key] = inner;
    } else if (!stableEqual(old, value)) {
      patch[key] = value;
    }
  }
  return patch;
}

/** StatusClient over any resource with a status subresource (custom resources included). */
export function kubeStatusClient(client: KubeClient): StatusClient {
  return {
    async get(ref) {
      try {
        return await client.get<KubeObject>(refPath(ref));
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    replaceStatus(ref, object) {
      return client.replace<KubeObject>(refPath(ref, 'status'), object);
    },
    patchStatus(ref, resourceVersion, patch) {
      return client.patch<KubeObject>(refPath(ref, 'status'), { metadata: { resourceVersion }, status: patch }, 'merge');
    },
  };
}

/**
 * The runtime refused a write because the object changed since it was read (StatusConflict) or this replica
 * no longer leads (LeaderElectionLost): not a failure of the work, so a reconciler rethrows it (requeue)
 * instead of reporting the run as failed.
 */
export function isRuntimeInterruption(error: unknown): boolean {
  return isOperatorError(error) && (error.reason === 'StatusConflict' || error.reason === 'LeaderElectionLost');
}
