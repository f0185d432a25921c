// An informer whose watch survives: list, then watch from the list's resourceVersion, keeping a cache
// and calling handlers with keys only. client-node's ListWatch stops for good on a non-410 error, so
// this one owns the loop: restart with jittered exponential backoff on errors, relist at once on
// 410 Gone, re-watch after normal closes and client-side inactivity timeouts, a "last activity"
// watchdog that restarts a silent or hung list/watch, and a periodic resync that re-delivers every key.
import { silentLogger, type Logger } from '../observability/logger.ts';
import { JitteredBackoff, type JitteredBackoffOptions } from './backoff.ts';
import { objectKey } from './controller.ts';
import {
  apiErrorMessage,
  apiStatusCode,
  resourcePath,
  type KubeClient,
  type KubeObject,
  type ResourceType,
} from './kube.ts';
import { systemTimers, type TimerHandle, type Timers } from './timers.ts';

export interface WatchHandle {
  abort(): void;
}

/** The seam between the informer and the API server (kubeListWatchSource is the real one). */
export interface ListWatchSource<T> {
  list(): Promise<{ items: T[]; resourceVersion: string }>;
  /** Starts a watch; onDone is called once when it ends (null: closed normally). */
  watch(
    resourceVersion: string,
    onEvent: (type: string, object: unknown) => void,
    onDone: (error: unknown) => void,
  ): Promise<WatchHandle>;
}

export type InformerEvent = 'add' | 'update' | 'delete' | 'resync';

/** Handlers get a key and must only enqueue it; a throw is caught and logged. */
export type KeyHandler<T> = (key: string, event: InformerEvent, object: T | undefined) => void;

export interface InformerOptions<T> {
  /** For logs, e.g. "lokdarpandatabases". */
  name: string;
  source: ListWatchSource<T>;
  logger?: Logger;
  timers?: Timers;
  /** Re-deliver every cached key this often (0 disables). Default 10 minutes. */
  resyncMs?: number;
  /**
   * Restart list+watch when nothing (event, list, watch connect) happened for this long. Default 15 minutes:
   * longer than a quiet watch lasts (its server-side timeout, at most 10 minutes, plus the client's grace),
   * so a server that sends no bookmarks costs a re-watch, not a relist.
   */
  watchdogMs?: number;
  /** Restart backoff. Default 800 ms doubling to 30 s, jitter 1.0. */
  backoff?: JitteredBackoffOptions;
  /** A watch that closes "normally" sooner than this without events counts as a failure. Default 1 s. */
  minWatchMs?: number;
}

export interface InformerStats {
  lists: number;
  watches: number;
  /** Restarts after an error (with backoff). */
  errors: number;
  /** Relists because of 410 Gone. */
  gone: number;
  /** Restarts forced by the watchdog. */
  watchdogRestarts: number;
}

export class Informer<T extends KubeObject> {
  readonly name: string;
  readonly #source: ListWatchSource<T>;
  readonly #logger: Logger;
  readonly #timers: Timers;
  readonly #resyncMs: number;
  readonly #watchdogMs: number;
  readonly #minWatchMs: number;
  readonly #backoff: JitteredBackoff;
  readonly #cache = new Map<string, T>();
  readonly #handlers: KeyHandler<T>[] = [];
  #resourceVersion = '';
  /** Bumped on every restart; callbacks of an older cycle are ignored. */
  #generation = 0;
  #watch: WatchHandle | undefined;
  #running = false;
  #synced = false;
  #syncedWaiters: Array<() => void> = [];
  #lastActivity = 0;
  #restartTimer: TimerHandle | undefined;
  #watchdogTimer: TimerHandle | undefined;
  #resyncTimer: TimerHandle | undefined;
  readonly stats: InformerStats = { lists: 0, watches: 0, errors: 0, gone: 0, watchdogRestarts: 0 };

  constructor(options: InformerOptions<T>) {
    this.name = options.name;
    this.#source = options.source;
    this.#logger = (options.logger ?? silentLogger).child({ informer: options.name });
    this.#timers = options.timers ?? systemTimers;
    this.#resyncMs = options.resyncMs ?? 10 * 60_000;
    this.#watchdogMs = options.watchdogMs ?? 15 * 60_000;
    this.#minWatchMs = options.minWatchMs ?? 1000;
    this.#backoff = new JitteredBackoff(options.backoff);
  }

  /** Adds a handler. Handlers registered after start() also get the current cache as 'add'. */
  onKey(handler: KeyHandler<T>): void {
    this.#handlers.push(handler);
    if (this.#synced) for (const [key, obj] of this.#cache) this.#call(handler, key, 'add', obj);
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#touch();
    this.#scheduleWatchdog();
    this.#scheduleResync();
    this.#restart(0, 'start');
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#generation++;
    this.#watch?.abort();
    this.#watch = undefined;
    this.#timers.clearTimeout(this.#restartTimer);
    this.#timers.clearTimeout(this.#watchdogTimer);
    this.#timers.clearTimeout(this.#resyncTimer);
  }

  /** True once the first list has filled the cache. */
  hasSynced(): boolean {
    return this.#synced;
  }

  whenSynced(): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve) => this.#syncedWaiters.push(resolve));
  }

  get(key: string): T | undefined {
    return this.#cache.get(key);
  }

  list(): T[] {
    return [...this.#cache.values()];
  }

  keys(): string[] {
    return [...this.#cache.keys()];
  }

  get resourceVersion(): string {
    return this.#resourceVersion;
  }

  /** Abandons the current list/watch and starts again after delayMs (a fresh list). */
  #restart(delayMs: number, why: string): void {
    if (!this.#running) return;
    const generation = ++this.#generation;
    this.#watch?.abort();
    this.#watch = undefined;
    this.#timers.clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    if (delayMs > 0) {
      this.#logger.info({ delayMs, why }, 'restarting list+watch after backoff');
      this.#restartTimer = this.#timers.setTimeout(() => void this.#listAndWatch(generation), delayMs);
    } else {
      void this.#listAndWatch(generation);
    }
  }

  #fail(generation: number, error: unknown, stage: 'list' | 'watch'): void {
    if (generation !== this.#generation || !this.#running) return;
    if (apiStatusCode(error) === 410) {
      this.stats.gone++;
      this.#logger.info({ stage }, 'resourceVersion too old (410 Gone); relisting');
      this.#resourceVersion = '';
      this.#restart(0, 'gone');
      return;
    }
    this.stats.errors++;
    const delayMs = this.#backoff.next();
    this.#logger.warn({ stage, error: apiErrorMessage(error), delayMs }, 'list+watch failed; will restart');
    this.#restart(delayMs, 'error');
  }

  async #listAndWatch(generation: number): Promise<void> {
    let list: { items: T[]; resourceVersion: string };
    try {
      this.stats.lists++;
      list = await this.#source.list();
    } catch (error) {
      this.#fail(generation, error, 'list');
      return;
    }
    if (generation !== this.#generation || !this.#running) return;
    this.#touch();
    this.#replace(list.items);
    this.#resourceVersion = list.resourceVersion;
    if (!this.#synced) {
      this.#synced = true;
      this.#logger.info({ objects: this.#cache.size }, 'cache synced');
      const waiters = this.#syncedWaiters;
      this.#syncedWaiters = [];
      for (const w of waiters) w();
    }
    await this.#startWatch(generation);
  }

  async #startWatch(generation: number): Promise<void> {
    if (generation !== this.#generation || !this.#running) return;
    const startedAt = this.#timers.now();
    let events = 0;
    let done = false;
    this.stats.watches++;
    const onEvent = (type: string, object: unknown): void => {
      if (generation !== this.#generation || done) return;
      events++;
      this.#touch();
      this.#backoff.reset();
      this.#handleEvent(generation, type, object);
    };
    const onDone = (error: unknown): void => {
      if (done) return;
      done = true;
      if (generation !== this.#generation || !this.#running) return;
      this.#watch = undefined;
      const isTimeout = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      if (error && !isTimeout) {
        this.#fail(generation, error, 'watch');
        return;
      }
      const lived = this.#timers.now() - startedAt;
      if (lived >= 60_000) this.#backoff.reset();
      if (events === 0 && lived < this.#minWatchMs) {
        this.#fail(generation, new Error(`watch closed after ${lived} ms without events`), 'watch');
        return;
      }
      // A normal close (server timeoutSeconds) or client inactivity timeout: watch again from where we are.
      this.#logger.debug({ resourceVersion: this.#resourceVersion, timeout: isTimeout }, 'watch closed; re-watching');
      void this.#startWatch(generation);
    };
    let handle: WatchHandle;
    try {
      handle = await this.#source.watch(this.#resourceVersion, onEvent, onDone);
    } catch (error) {
      onDone(error);
      return;
    }
    if (generation !== this.#generation || !this.#running) {
      handle.abort();
      return;
    }
    if (!done) {
      this.#watch = handle;
      this.#touch();
    }
  }

  #handleEvent(generation: number, type: string, object: unknown): void {
    const obj = object as T & { code?: number; metadata?: { resourceVersion?: string } };
    if (type === 'ERROR') {
      // A Status object; 410 means our resourceVersion was compacted away.
      const code = typeof obj.code === 'number' ? obj.code : undefined;
      this.#fail(generation, { statusCode: code ?? 500, message: (object as { message?: string }).message }, 'watch');
      return;
    }
    const rv = obj.metadata?.resourceVersion;
    if (type === 'BOOKMARK') {
      if (rv) this.#resourceVersion = rv;
      return;
    }
    const key = objectKey(obj);
    if (type === 'ADDED' || type === 'MODIFIED') {
      const old = this.#cache.get(key);
      this.#cache.set(key, obj);
      if (!old) this.#emit(key, 'add', obj);
      else if (old.metadata?.resourceVersion !== rv) this.#emit(key, 'update', obj);
    } else if (type === 'DELETED') {
      if (this.#cache.delete(key)) this.#emit(key, 'delete', obj);
    }
    if (rv) this.#resourceVersion = rv;
  }

  /** Replaces the cache with a fresh list, emitting the differences. */
  #replace(items: T[]): void {
    const fresh = new Map<string, T>();
    for (const item of items) fresh.set(objectKey(item), item);
    for (const [key, old] of this.#cache) {
      if (!fresh.has(key)) {
        this.#cache.delete(key);
        this.#emit(key, 'delete', old);
      }
    }
    for (const [key, obj] of fresh) {
      const old = this.#cache.get(key);
      this.#cache.set(key, obj);
      if (!old) this.#emit(key, 'add', obj);
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.#emit(key, 'update', obj);
    }
  }

  #emit(key: string, event: InformerEvent, obj: T | undefined): void {
    for (const h of this.#handlers) this.#call(h, key, event, obj);
  }

  #call(handler: KeyHandler<T>, key: string, event: InformerEvent, obj: T | undefined): void {
    try {
      handler(key, event, obj);
    } catch (error) {
      this.#logger.error({ key, event, error: apiErrorMessage(error) }, 'informer handler threw; handlers must only enqueue');
    }
  }

  #touch(): void {
    this.#lastActivity = this.#timers.now();
  }

  #scheduleWatchdog(): void {
    if (this.#watchdogMs <= 0) return;
    const interval = Math.max(1, Math.floor(this.#watchdogMs / 4));
    this.#watchdogTimer = this.#timers.setTimeout(() => {
      if (!this.#running) return;
      const idle = this.#timers.now() - this.#lastActivity;
      if (idle >= this.#watchdogMs && this.#restartTimer === undefined) {
        this.stats.watchdogRestarts++;
        this.#logger.warn({ idleMs: idle }, 'no watch activity for too long; restarting list+watch');
        this.#touch();
        this.#restart(0, 'watchdog');
      }
      this.#scheduleWatchdog();
    }, interval);
  }

  #scheduleResync(): void {
    if (this.#resyncMs <= 0) return;
    this.#resyncTimer = this.#timers.setTimeout(() => {
      if (!this.#running) return;
      if (this.#synced) for (const [key, obj] of this.#cache) this.#emit(key, 'resync', obj);
      this.#scheduleResync();
    }, this.#resyncMs);
  }
}

export interface KubeListWatchOptions {
  type: ResourceType;
  /** Only this namespace (all namespaces when absent). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Server-side watch timeout: a random value in [min, 2*min) seconds, as client-go does. Default 300. */
  watchTimeoutSeconds?: number;
  random?: () => number;
}

/** The real source: paginated list + client-node Watch with bookmarks, on any resource path. */
export function kubeListWatchSource<T extends KubeObject>(
  client: KubeClient,
  options: KubeListWatchOptions,
): ListWatchSource<T> {
  const path = resourcePath(options.type, options.namespace);
  const selectors: Record<string, string> = {};
  if (options.labelSelector) selectors['labelSelector'] = options.labelSelector;
  if (options.fieldSelector) selectors['fieldSelector'] = options.fieldSelector;
  const random = options.random ?? Math.random;
  const minTimeout = options.watchTimeoutSeconds ?? 300;
  return {
    async list() {
      const list = await client.listAll<T>(path, selectors);
      return { items: list.items, resourceVersion: list.metadata?.resourceVersion ?? '' };
    },
    async watch(resourceVersion, onEvent, onDone) {
      const controller = await client.watch(
        path,
        {
          ...selectors,
          resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds: Math.floor(minTimeout * (1 + random())),
        },
        onEvent,
        onDone,
      );
      return { abort: () => controller.abort() };
    },
  };
}
