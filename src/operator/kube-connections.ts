// One HTTP connection pool per cluster/user instead of one per API request. @kubernetes/client-node 2.0.1
// builds a new undici Agent for every request whose cluster has TLS options (always: a CA file or the
// in-cluster CA), so every GET/PUT paid a fresh TCP + TLS handshake and left a keep-alive socket behind.
// Measured with bench/operator-scale.ts (500 resources): that cost most of the operator's CPU per reconcile
// and most of its RSS. The dispatcher only carries TLS material (CA, client certificate); bearer tokens are
// headers, added per request, so rotating tokens keep working.
import type { KubeConfig } from '@kubernetes/client-node';

interface DispatcherFactory {
  createDispatcher(cluster: unknown, agentOptions: unknown): unknown;
}

const shared = new WeakSet<KubeConfig>();

/** Makes `kubeConfig` reuse one dispatcher (connection pool) per distinct TLS setup. Idempotent; returns it. */
export function shareConnections(kubeConfig: KubeConfig): KubeConfig {
  if (shared.has(kubeConfig)) return kubeConfig;
  const target = kubeConfig as unknown as DispatcherFactory;
  if (typeof target.createDispatcher !== 'function') return kubeConfig; // another client-node version: leave it
  const original = target.createDispatcher.bind(kubeConfig);
  const pools = new Map<string, unknown>();
  target.createDispatcher = (cluster, agentOptions) => {
    const options = kubeConfig.createDispatcherOptions(cluster as never, agentOptions as never);
    const key = JSON.stringify(options);
    if (!pools.has(key)) pools.set(key, original(cluster, agentOptions));
    return pools.get(key);
  };
  shared.add(kubeConfig);
  return kubeConfig;
}
