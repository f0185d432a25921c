// Which versions of each object this process's own status writes replaced, so that no reconcile starts
// from an informer copy that has not yet seen our last write (its watch event comes a little later). Such a
// copy shows the status from before the write: work that write recorded (a run just done, a request just
// honoured: lastRequest, nextRunTime) would look due again and run twice. resourceVersions are opaque and
// only compared for equality. The cache never goes back, and every version from the one a reconcile read to
// the last one we replaced is recorded: a copy at any other version has caught up, so the record is dropped.
import type { KubeObject } from '../../runtime/kube.ts';

export class OwnStatusWrites {
  readonly #replaced = new Map<string, Set<string>>();
  readonly #awaited = new Set<string>();

  /** A status write of `key` succeeded over `version` (StatusReplaceResult.replaced). */
  wrote(key: string, version: string | undefined): void {
    if (version === undefined) return;
    const replaced = this.#replaced.get(key);
    if (replaced) replaced.add(version);
    else this.#replaced.set(key, new Set([version]));
  }

  /**
   * True when `cached` is at a version one of our writes replaced: the cache has not caught up with our own
   * write, and the key awaits the cache's next event for it (takeAwaited).
   */
  isBehind(key: string, cached: KubeObject): boolean {
    const version = cached.metadata?.resourceVersion;
    if (version !== undefined && this.#replaced.get(key)?.has(version)) {
      this.#awaited.add(key);
      return true;
    }
    this.#replaced.delete(key);
    return false;
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
}
