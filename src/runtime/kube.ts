// A small JSON client over the operator's own HTTP layer (kube-http.ts: node:https, one keep-alive pool),
// returning plain JSON objects exactly as the API server sent them (no Date conversion), plus helpers
// shared by the runtime: resource paths, API error classification, and MicroTime formatting.
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeHttp, type KubeConnection, type WatchDoneHandler, type WatchEventHandler, type WatchQuery } from './kube-http.ts';
import { kubeConfigConnection } from './kube-config.ts';
import { unlimited, type RequestRateLimiter } from './rate-limiter.ts';

/** A resource type the runtime can address by path. */
export interface ResourceType {
  /** `v1` for the core group, else `group/version`. */
  readonly apiVersion: string;
  readonly kind: string;
  /** Lower-case plural, e.g. `configmaps`, `lokdarpandatabases`. */
  readonly plural: string;
  readonly namespaced: boolean;
}

/** A reference to one object. */
export interface ObjectRef {
  readonly type: ResourceType;
  readonly namespace?: string | undefined;
  readonly name: string;
}

export interface ObjectMetaLike {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  finalizers?: string[];
  deletionTimestamp?: string | Date;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** A Kubernetes object as plain JSON. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMetaLike;
  [field: string]: unknown;
}

export interface KubeList<T> {
  metadata?: { resourceVersion?: string; continue?: string };
  items: T[];
}

export function resourcePath(
  type: ResourceType,
  namespace?: string,
  name?: string,
  subresource?: string,
): string {
  const base = type.apiVersion.includes('/') ? `/apis/${type.apiVersion}` : `/api/${type.apiVersion}`;
  const ns = type.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  const obj = name === undefined ? '' : `/${encodeURIComponent(name)}`;
  const sub = subresource ? `/${subresource}` : '';
  return `${base}${ns}/${type.plural}${obj}${sub}`;
}

export function refPath(ref: ObjectRef, subresource?: string): string {
  return resourcePath(ref.type, ref.namespace, ref.name, subresource);
}

/** The HTTP status of an API or watch error, if it has one. */
export function apiStatusCode(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null) {
    const e = error as { statusCode?: unknown; code?: unknown };
    if (typeof e.statusCode === 'number') return e.statusCode;
    if (typeof e.code === 'number') return e.code;
  }
  return undefined;
}

export const isNotFound = (e: unknown): boolean => apiStatusCode(e) === 404;
/** 409: a stale resourceVersion on update, or AlreadyExists on create. */
export const isConflict = (e: unknown): boolean => apiStatusCode(e) === 409;
export const isGone = (e: unknown): boolean => apiStatusCode(e) === 410;

/** An API answer that was not 2xx: KubeApiError here, client-node's ApiException in tests and the CLI. */
function isApiError(error: unknown): error is { code: number; body: unknown } {
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'number' && 'body' in error;
}

/** The API server's one-line message for an error (Status.message), else the error's message. */
export function apiErrorMessage(error: unknown): string {
  if (isApiError(error)) {
    const body = error.body as { message?: unknown } | string | undefined;
    if (body && typeof body === 'object' && typeof body.message === 'string') return body.message;
    if (typeof body === 'string') {
      try {
        const parsed = JSON.parse(body) as { message?: unknown };
        if (typeof parsed.message === 'string') return parsed.message;
      } catch {
        // not JSON
      }
    }
    return `HTTP ${error.code}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** RFC 3339 with 6 fractional digits, as metav1.MicroTime requires (Date.toISOString() gives 3). */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** RFC 3339 with seconds precision, as metav1.Time serializes. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Parses a Kubernetes time (string, or a Date from a typed client) to epoch ms; undefined if absent. */
export function parseKubeTime(value: unknown): number | undefined {
  if (value instanceof Date) return value.getTime();
  if (typeof value !== 'string' || value === '') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

export type PatchType = 'merge' | 'json';

/** What the client reports per API request (the operator feeds Prometheus with it). */
export interface KubeRequestMetrics {
  /** One finished request: HTTP method, resource (`secrets`, `lokdarpandatabases/status`), status code or `<error>`. */
  requested(method: string, resource: string, code: string): void;
  /** Time a request waited for the client-side rate limiter, in ms (0 when it did not wait). */
  rateLimited(waitMs: number): void;
}

export interface KubeClientOptions {
  rateLimiter?: RequestRateLimiter;
  metrics?: KubeRequestMetrics;
}

/**
 * The resource a path addresses, with its subresource: `/api/v1/namespaces/n/secrets/s` -> `secrets`,
 * `/apis/g/v1/namespaces/n/things/x/status` -> `things/status`, `/api/v1/namespaces/n` -> `namespaces`.
 * Bounded by the kinds the operator uses, so it is a safe metric label (names never appear).
 */
export function resourceOfPath(path: string): string {
  const parts = path.split('?')[0]!.split('/').filter(Boolean);
  const rest = parts[0] === 'api' ? parts.slice(2) : parts[0] === 'apis' ? parts.slice(3) : undefined;
  if (!rest || rest.length === 0) return 'other';
  const scoped = rest[0] === 'namespaces' && rest.length > 2 ? rest.slice(2) : rest;
  const [plural, , subresource] = scoped;
  return subresource ? `${plural}/${subresource}` : (plural ?? 'other');
}

/**
 * JSON verbs on paths. Errors are KubeApiErrors (use apiStatusCode / isConflict). Every request, watches
 * included, first takes a token from the rate limiter (none by default). Takes a KubeConnection
 * (kube-config.ts: loadKubeConnection) or a client-node KubeConfig (the CLI and tests).
 */
export class KubeClient {
  readonly #http: KubeHttp;
  readonly #limiter: RequestRateLimiter;
  readonly #metrics: KubeRequestMetrics | undefined;

  constructor(source: KubeConnection | KubeConfig, options: KubeClientOptions = {}) {
    this.#http = new KubeHttp('credentials' in source ? source : kubeConfigConnection(source));
    this.#limiter = options.rateLimiter ?? unlimited;
    this.#metrics = options.metrics;
  }

  async #send(method: string, path: string, options: { query?: Record<string, string> | undefined; body?: unknown; contentType?: string }): Promise<unknown> {
    const waited = await this.#limiter.take();
    this.#metrics?.rateLimited(waited);
    try {
      const answer = await this.#http.request(method, path, options);
      this.#metrics?.requested(method, resourceOfPath(path), String(answer.status));
      return answer.body;
    } catch (error) {
      this.#metrics?.requested(method, resourceOfPath(path), String(apiStatusCode(error) ?? '<error>'));
      throw error;
    }
  }

  async get<T = KubeObject>(path: string, query?: Record<string, string>): Promise<T> {
    return (await this.#send('GET', path, { query })) as T;
  }

  async create<T = KubeObject>(path: string, body: unknown, query?: Record<string, string>): Promise<T> {
    return (await this.#send('POST', path, { body, query })) as T;
  }

  async replace<T = KubeObject>(path: string, body: unknown, query?: Record<string, string>): Promise<T> {
    return (await this.#send('PUT', path, { body, query })) as T;
  }

  async patch<T = KubeObject>(path: string, body: unknown, type: PatchType = 'merge', query?: Record<string, string>): Promise<T> {
    const contentType = type === 'merge' ? 'application/merge-patch+json' : 'application/json-patch+json';
    return (await this.#send('PATCH', path, { body, contentType, query })) as T;
  }

  async delete(path: string): Promise<void> {
    await this.#send('DELETE', path, {});
  }

  /** Lists every page (limit per request) and returns the items with the list's resourceVersion. */
  async listAll<T = KubeObject>(path: string, query: Record<string, string> = {}, pageSize = 500): Promise<KubeList<T>> {
    const items: T[] = [];
    let continueToken: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const page = await this.get<KubeList<T>>(path, {
        ...query,
        limit: String(pageSize),
        ...(continueToken ? { continue: continueToken } : {}),
      });
      items.push(...(page.items ?? []));
      resourceVersion = page.metadata?.resourceVersion;
      continueToken = page.metadata?.continue || undefined;
    } while (continueToken);
    return { items, metadata: resourceVersion === undefined ? {} : { resourceVersion } };
  }

  /** A watch: callbacks per event, done(err) once when the stream ends (KubeHttp.watch). */
  async watch(path: string, query: WatchQuery, onEvent: WatchEventHandler, onDone: WatchDoneHandler): Promise<AbortController> {
    const waited = await this.#limiter.take();
    this.#metrics?.rateLimited(waited);
    return this.#http.watch(path, query, onEvent, onDone);
  }
}
