// The policy check gauges the LokdarpanPolicyCheckFailing alert reads: one series per check condition,
// 1 while True, 0 while False, none for a check the status does not have, gone with the policy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { createOperatorMetrics } from '../../../src/observability/metrics.ts';
import { createDomainMetrics } from '../../../src/observability/domain-metrics/index.ts';

const condition = (type: string, status: 'True' | 'False') => ({ type, status, reason: 'R', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' });

async function series(registry: Registry, name: string): Promise<Array<[string, number]>> {
  const { values } = await registry.getSingleMetric(name)!.get();
  return values.map((v) => [`${v.labels['policy']}/${v.labels['check']}`, v.value] as [string, number]).sort();
}

test('backup and retention policy checks become 1/0 gauges by check and are forgotten with the policy', async () => {
  const metrics = createOperatorMetrics(new Registry(), { defaultMetrics: false });
  const domain = createDomainMetrics(metrics);
  const policy = { namespace: 'prod', policy: 'nightly' };
  domain.recordBackupPolicyStatus(policy, { conditions: [condition('Ready', 'False'), condition('DestinationsReady', 'False'), condition('DatabaseReady', 'True'), condition('KeysReady', 'True')] }, { schedule: '0 2 * * *' });
  assert.deepEqual(await series(metrics.registry, 'lokdarpan_backup_policy_check_passing'), [['nightly/DatabaseReady', 1], ['nightly/DestinationsReady', 0], ['nightly/KeysReady', 1]]);
  domain.recordRetentionPolicyStatus({ namespace: 'prod', policy: 'rows' }, { conditions: [condition('DatabaseReady', 'False')] }, { schedule: '0 3 * * *' });
  assert.deepEqual(await series(metrics.registry, 'lokdarpan_retention_policy_check_passing'), [['rows/DatabaseReady', 0]]);
  domain.recordBackupPolicyStatus(policy, { conditions: [condition('DestinationsReady', 'True'), { ...condition('DatabaseReady', 'True'), status: 'Unknown' }] }, { schedule: '0 2 * * *', suspend: true });
  assert.deepEqual(await series(metrics.registry, 'lokdarpan_backup_policy_check_passing'), [['nightly/DestinationsReady', 1]], 'Unknown (suspended) or absent checks have no series');
  await domain.forgetBackupPolicy(policy);
  assert.deepEqual(await series(metrics.registry, 'lokdarpan_backup_policy_check_passing'), []);
});
