// Killing the operator's watch connections by restarting kube-apiserver mid-run: the operator (a child
// process, never restarted) re-lists and re-watches, and a LokdarpanDatabase created after the restart
// is reconciled to Ready; one changed during the restart window is caught up too.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { condition, operatorFixture } from './operator-harness.ts';
import { GENEROUS_WAIT_MS, SUITE_TIMEOUT_MS } from '../wait.ts';

describe('LokdarpanDatabase operator: kube-apiserver restart', { timeout: SUITE_TIMEOUT_MS }, () => {
  const fx = operatorFixture();

  it('after a restart of the API server a new resource is reconciled without restarting the operator', async () => {
    const first = await fx.h.applyDatabase({ name: 'before-restart' });
    await fx.h.waitForCondition(first.namespace, first.name, 'Ready', 'True');
    const pid = fx.operator.process.child.pid;
    const linesBefore = fx.operator.log().split('\n').length;

    const t0 = Date.now();
    await fx.h.kube.restartApiServer();
    console.log(`kube-apiserver restarted in ${Date.now() - t0} ms`);

    const second = await fx.h.applyDatabase({ name: 'after-restart' });
    const ready = await fx.h.waitForCondition(second.namespace, second.name, 'Ready', 'True');
    console.log(`new resource Ready ${Date.now() - t0} ms after the restart began`);
    assert.equal(ready.status?.schemaVersion, '009_hnsw_dense_graph');
    assert.equal(fx.operator.process.child.pid, pid);
    assert.equal(fx.operator.process.child.exitCode, null, 'the operator never exited');
    // The log shows that the watch was lost and started again.
    const after = fx.operator.log().split('\n').slice(linesBefore).join('\n');
    assert.match(after, /list\+watch failed; will restart|restarting list\+watch|watch closed; re-watching/);
    assert.equal((await fx.operator.http('/readyz')).status, 200);

    // The resource from before the restart still answers to changes.
    await fx.h.client.patch(`/apis/lokdarpan.io/v1alpha1/namespaces/${first.namespace}/lokdarpandatabases/${first.name}`, { spec: { validation: { samples: 3 } } }, 'merge');
    const observed = await fx.h.waitFor(first.namespace, first.name, 'generation 2 observed', (l) => l.status?.observedGeneration === 2, GENEROUS_WAIT_MS);
    assert.equal(condition(observed, 'Ready')?.status, 'True');
  });

  it('never writes a password or connection URI into its logs, events or statuses', async () => {
    await fx.h.assertNoSecretsLeaked();
  });
});
