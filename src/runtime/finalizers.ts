// Finalizers: add or remove one with a merge patch of metadata.finalizers carrying the read
// resourceVersion (a concurrent change gives 409, then we re-read and try again). No-op when the
// finalizer is already in the wanted state.
import { OperatorError } from '../errors.ts';
import { isConflict, isNotFound, refPath, type KubeClient, type KubeObject, type ObjectRef } from './kube.ts';

/** The seam to the API server (kubeFinalizerClient is the real one). */
export interface FinalizerClient {
  get(ref: ObjectRef): Promise<KubeObject | undefined>;
  mergePatch(ref: ObjectRef, patch: Record<string, unknown>): Promise<KubeObject>;
}

export function hasFinalizer(obj: KubeObject | undefined, finalizer: string): boolean {
  return obj?.metadata?.finalizers?.includes(finalizer) ?? false;
}

export function isBeingDeleted(obj: KubeObject | undefined): boolean {
  return Boolean(obj?.metadata?.deletionTimestamp);
}

/** Adds the finalizer; returns the updated object (undefined if the object is gone). */
export function addFinalizer(client: FinalizerClient, ref: ObjectRef, finalizer: string, maxAttempts = 5) {
  return change(client, ref, maxAttempts, (list) => (list.includes(finalizer) ? undefined : [...list, finalizer]));
}

/** Removes the finalizer; returns the updated object (undefined if the object is gone, e.g. deleted). */
export function removeFinalizer(client: FinalizerClient, ref: ObjectRef, finalizer: string, maxAttempts = 5) {
  return change(client, ref, maxAttempts, (list) => (list.includes(finalizer) ? list.filter((f) => f !== finalizer) : undefined));
}

async function change(
  client: FinalizerClient,
  ref: ObjectRef,
  maxAttempts: number,
  next: (current: string[]) => string[] | undefined,
): Promise<KubeObject | undefined> {
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const obj = await client.get(ref);
    if (!obj) return undefined;
    const wanted = next(obj.metadata?.finalizers ?? []);
    if (!wanted) return obj;
    try {
      return await client.mergePatch(ref, {
        metadata: { finalizers: wanted, resourceVersion: obj.metadata?.resourceVersion },
      });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      if (!isConflict(error)) throw error;
    }
  }
  throw new OperatorError('FinalizerConflict', `finalizers of ${ref.name} kept changing; gave up after ${maxAttempts} attempts`);
}

export function kubeFinalizerClient(client: KubeClient): FinalizerClient {
  return {
    async get(ref) {
      try {
        return await client.get<KubeObject>(refPath(ref));
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    mergePatch: (ref, patch) => client.patch<KubeObject>(refPath(ref), patch, 'merge'),
  };
}
