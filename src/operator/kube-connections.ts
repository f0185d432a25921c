// One HTTP connection pool per cluster/user instead of one per API request, and the TLS material read
// once a minute instead of per request. @kubernetes/client-node 2.0.1, on every request: re-reads the CA
// (and client certificate/key) files synchronously (in-cluster: the service account's ca.crt) or decodes
// them from base64 (applyHTTPSOptions), then builds a new undici Agent for them (createDispatcher), so
// every GET/PUT paid a file read, a fresh TCP + TLS handshake and left a keep-alive socket behind.
// Measured with bench/operator-scale.ts (500 resources): that cost most of the operator's CPU per
// reconcile and most of its RSS. Only TLS material is kept; bearer tokens are headers, added per request
// by applyAuthorizationHeader (not wrapped), so rotating tokens keep working.
import type { KubeConfig } from '@kubernetes/client-node';

interface PatchableConfig {
  createDispatcher(cluster: unknown, agentOptions: unknown): unknown;
  applyHTTPSOptions(opts: Record<string, unknown>): void;
  getCurrentCluster(): unknown;
  getCurrentUser(): unknown;
}

export interface ShareConnectionsOptions {
  /** How long the TLS files' contents are reused before they are read again (rotation). Default 60 s. */
  tlsTtlMs?: number;
  /** Milliseconds, monotonic. Default performance.now. */
  now?: () => number;
}

const shared = new WeakSet<KubeConfig>();

/** What applyHTTPSOptions sets, remembered for one cluster and user. */
interface TlsMemo {
  cluster: unknown;
  user: unknown;
  at: number;
  fields: Record<string, unknown>;
}

/** The agent options that select a dispatcher (the TLS fields client-node copies from applyHTTPSOptions). */
const AGENT_FIELDS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'] as const;

/** Makes `kubeConfig` reuse its TLS material and one dispatcher per distinct TLS setup. Idempotent; returns it. */
export function shareConnections(kubeConfig: KubeConfig, options: ShareConnectionsOptions = {}): KubeConfig {
  if (shared.has(kubeConfig)) return kubeConfig;
  const target = kubeConfig as unknown as PatchableConfig;
  // Another client-node version: leave it as it is.
  if (typeof target.createDispatcher !== 'function' || typeof target.applyHTTPSOptions !== 'function') return kubeConfig;
  const tlsTtlMs = options.tlsTtlMs ?? 60_000;
  const now = options.now ?? (() => performance.now());

  const applyHTTPSOptions = target.applyHTTPSOptions.bind(kubeConfig);
  let memo: TlsMemo | undefined;
  target.applyHTTPSOptions = (opts) => {
    const cluster = target.getCurrentCluster();
    const user = target.getCurrentUser();
    const at = now();
    if (!memo || memo.cluster !== cluster || memo.user !== user || at - memo.at >= tlsTtlMs) {
      const fields: Record<string, unknown> = {};
      applyHTTPSOptions(fields);
      memo = { cluster, user, at, fields };
    }
    const { headers, ...tls } = memo.fields;
    Object.assign(opts, tls);
    // Fresh header objects: the caller adds its Authorization header to them.
    if (headers) opts['headers'] = { ...(opts['headers'] as object | undefined), ...(headers as object) };
  };

  const createDispatcher = target.createDispatcher.bind(kubeConfig);
  const pools = new Map<string, unknown>();
  let last: { cluster: unknown; values: unknown[]; dispatcher: unknown } | undefined;
  target.createDispatcher = (cluster, agentOptions) => {
    // While the TLS memo holds, the same Buffers come back: no need to serialise them to find the pool.
    const values = AGENT_FIELDS.map((field) => (agentOptions as Record<string, unknown>)[field]);
    if (last && last.cluster === cluster && values.every((value, i) => value === last!.values[i])) return last.dispatcher;
    const key = JSON.stringify(kubeConfig.createDispatcherOptions(cluster as never, agentOptions as never));
    if (!pools.has(key)) pools.set(key, createDispatcher(cluster, agentOptions));
    last = { cluster, values, dispatcher: pools.get(key) };
    return last.dispatcher;
  };
  shared.add(kubeConfig);
  return kubeConfig;
}
