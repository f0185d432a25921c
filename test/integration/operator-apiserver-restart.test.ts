// Killing the operator's watch connections by restarting kube-apiserver mid-run: the operator (a child
// process, never restarted) re-lists and re-watches, and a LokdarpanDatabase created after the restart
// is reconciled to Ready; one changed during the restart window is caught up too.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { condition, startOperatorHarness, type OperatorHarness, type OperatorProcess } from './operator-harness.ts';
import { GENEROUS_WAIT_MS } from '../wait.ts';

describe('LokdarpanDatabase operator: kube-apiserver restart', { timeout: 150_000 }, () => {
  let h: OperatorHarness;
  let operator: OperatorProcess;

  before(async () => {
    h = await startOperatorHarness();
    operator = await h.startOperator();
  });

  after(async () => {
    await h?.stop();
  });

  it('after a restart of the API server a new resource is reconciled without restarting the operator', async () => {
    const first = await h.applyDatabase({ name: 'before-restart' });
    await h.waitForCondition(first.namespace, first.name, 'Ready', 'True', { timeoutMs: 60_000 });
    const pid = operator.process.child.pid;
    const linesBefore = operator.log().split('\n').length;

    const t0 = Date.now();
    await h.kube.restartApiServer();
    console.log(`kube-apiserver restarted in ${Date.now() - t0} ms`);

    const second = await h.applyDatabase({ name: 'after-restart' });
    const ready = await h.waitForCondition(second.namespace, second.name, 'Ready', 'True', { timeoutMs: 90_000 });
    console.log(`new resource Ready ${Date.now() - t0} ms after the restart began`);
    assert.equal(ready.status?.schemaVersion, '008_hnsw_ef_search');
    assert.equal(operator.process.child.pid, pid);
    assert.equal(operator.process.child.exitCode, null, 'the operator never exited');
    // The log shows that the watch was lost and started again.
    const after = operator.log().split('\n').slice(linesBefore).join('\n');
    assert.match(after, /list\+watch failed; will restart|restarting list\+watch|watch closed; re-watching/);
    assert.equal((await operator.http('/readyz')).status, 200);

    // The resource from before the restart still answers to changes.
    await h.client.patch(`/apis/lokdarpan.io/v1alpha1/namespaces/${first.namespace}/lokdarpandatabases/${first.name}`, { spec: { validation: { samples: 3 } } }, 'merge');
    const observed = await h.waitFor(first.namespace, first.name, 'generation 2 observed', (l) => l.status?.observedGeneration === 2, GENEROUS_WAIT_MS);
    assert.equal(condition(observed, 'Ready')?.status, 'True');
  });

  it('never writes a password or connection URI into its logs, events or statuses', async () => {
    await h.assertNoSecretsLeaked();
  });
});
