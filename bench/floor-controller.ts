// The floor of bench/operator-scale.ts --baseline floor: the least any controller can do for a burst of
// suspended LokdarpanDatabases. One watch on every namespace (as the operator's) and, for each event whose
// metadata.generation differs from status.observedGeneration, at once one status write: the JSON merge patch
// of /status with the resourceVersion precondition that the operator's StatusWriter sends, carrying the
// status the operator computes for a suspended resource (Outcome.suspended). No queue, no rate limiter, no
// workers, no dedup, no spec parsing, no events. Run by the bench as a child process under the operator's
// ServiceAccount (KUBECONFIG), so the API server authorizes and classifies (APF) its requests the same way.
// Prints `synced` once its cache is filled; errors go to stderr.
import { KubeClient, apiErrorMessage, type KubeObject } from '../src/runtime/kube.ts';
import { loadKubeConnection } from '../src/runtime/kube-config.ts';
import { Informer, kubeListWatchSource } from '../src/runtime/informer.ts';
import { StatusWriter, kubeStatusClient } from '../src/runtime/status-writer.ts';
import { Outcome } from '../src/controllers/shared/outcome.ts';
import { DatabaseReasons } from '../src/controllers/lokdarpan-database/reasons.ts';
import { SUSPENDED_MESSAGE } from '../src/controllers/lokdarpan-database/reconciler.ts';

const type = { apiVersion: 'lokdarpan.io/v1alpha1', kind: 'LokdarpanDatabase', plural: 'lokdarpandatabases', namespaced: true };
const client = new KubeClient(await loadKubeConnection({ env: process.env }));
const writer = new StatusWriter({ client: kubeStatusClient(client) });
const informer = new Informer<KubeObject>({ name: 'floor', source: kubeListWatchSource(client, { type }) });

informer.onKey((_key, event, object) => {
  if (!object || event === 'delete') return;
  const { metadata = {} } = object;
  const status = (object['status'] ?? {}) as { observedGeneration?: number };
  if (metadata.generation === status.observedGeneration || metadata.name === undefined) return;
  const outcome = new Outcome(object as { metadata: { generation?: number }; status?: { observedGeneration?: number } }, new Date());
  const { status: suspended } = outcome.suspended(DatabaseReasons.Suspended, SUSPENDED_MESSAGE);
  writer
    .replaceFrom({ type, namespace: metadata.namespace, name: metadata.name }, object, suspended as Record<string, unknown>)
    .catch((error: unknown) => console.error(`status of ${metadata.namespace}/${metadata.name}: ${apiErrorMessage(error)}`));
});
informer.start();
await informer.whenSynced();
console.log('synced');
process.once('SIGTERM', () => void informer.stop().then(() => process.exit(0)));
