// Which versions of each object this process's own status writes superseded, so that no reconcile starts
// from an informer copy that has not yet seen our last write (its watch event comes a little later). Such a
// copy shows the status from before the write: work that write recorded (a run just done, a request just
// honoured: lastRequest, nextRunTime) would look due again and run twice. resourceVersions are opaque and
// only compared for equality. Recorded: every version a write was based on (the one the reconcile read,
// what earlier writes returned, the fresh copies a metadata-only conflict retried on). The cache never goes
// back, so a copy at any other version has caught up with all of them, and they are dropped. Not known
// here: a version someone else made and we never saw (a second label change racing one of our writes).
import type { KubeObject } from '../../runtime/kube.ts';

export class OwnStatusWrites {
  readonly #replaced = new Map<string, Set<string>>();
  readonly #awaited = new Set<string>();

  /**
   * A status write of `key` succeeded over `versions` (StatusReplaceResult.replaced); `cached` is the cache's
   * copy now. What the cache has caught up with is dropped first: a long run's progress writes do not pile up.
   */
  wrote(key: string, versions: readonly string[], cached: KubeObject | undefined): void {
    if (versions.length === 0) return;
    this.#dropIfCaughtUp(key, cached);
    const replaced = this.#replaced.get(key) ?? new Set<string>();
    for (const version of versions) replaced.add(version);
    this.#replaced.set(key, replaced);
  }

  /**
   * True when `cached` is at a version one of our writes replaced: the cache has not caught up with our own
   * write, and the key awaits the cache's next event for it (takeAwaited).
   */
  isBehind(key: string, cached: KubeObject): boolean {
    if (this.#dropIfCaughtUp(key, cached)) return false;
    this.#awaited.add(key);
    return true;
  }

  /** True (once) when a reconcile of `key` was skipped for a lagging cache: the key's next event must reach it. */
  takeAwaited(key: string): boolean {
    return this.#awaited.delete(key);
  }

  /** The object is gone. */
  forget(key: string): void {
    this.#replaced.delete(key);
    this.#awaited.delete(key);
  }

  #dropIfCaughtUp(key: string, cached: KubeObject | undefined): boolean {
    const version = cached?.metadata?.resourceVersion;
    if (version !== undefined && this.#replaced.get(key)?.has(version)) return false;
    this.#replaced.delete(key);
    return true;
  }
}
