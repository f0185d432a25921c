import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configFromEnv } from '../../../src/operator/config.ts';

test('workers per controller: defaults 8 (databases, retention, backup policies) and 2 (backups, restores), bounded', () => {
  const defaults = configFromEnv({});
  assert.equal(defaults.workers, 8);
  assert.equal(defaults.backupWorkers, 2);
  const set = configFromEnv({ LOKDARPAN_WORKERS: '8', LOKDARPAN_BACKUP_WORKERS: '1' });
  assert.equal(set.workers, 8);
  assert.equal(set.backupWorkers, 1);
  assert.throws(() => configFromEnv({ LOKDARPAN_WORKERS: '0' }), /workers/);
  assert.throws(() => configFromEnv({ LOKDARPAN_WORKERS: 'many' }), /workers/);
  assert.throws(() => configFromEnv({ LOKDARPAN_BACKUP_WORKERS: '1.5' }), /backupWorkers/);
});

test('Kubernetes API rate limit: default 200 QPS with bursts of 400, 0 QPS turns it off, nonsense refused', () => {
  const defaults = configFromEnv({});
  assert.equal(defaults.kubeApiQps, 200);
  assert.equal(defaults.kubeApiBurst, 400);
  const set = configFromEnv({ LOKDARPAN_KUBE_API_QPS: '0', LOKDARPAN_KUBE_API_BURST: '10' });
  assert.equal(set.kubeApiQps, 0);
  assert.equal(set.kubeApiBurst, 10);
  assert.equal(configFromEnv({ LOKDARPAN_KUBE_API_QPS: '2.5' }).kubeApiQps, 2.5);
  assert.throws(() => configFromEnv({ LOKDARPAN_KUBE_API_QPS: '-1' }), /kubeApiQps/);
  assert.throws(() => configFromEnv({ LOKDARPAN_KUBE_API_BURST: '0' }), /kubeApiBurst/);
});

test('resync period: 10 hours by default, a duration of 1m to 7d, or 0s for never', () => {
  assert.equal(configFromEnv({}).resyncPeriod, 10 * 3_600_000);
  assert.equal(configFromEnv({ LOKDARPAN_RESYNC_PERIOD: '2h' }).resyncPeriod, 2 * 3_600_000);
  assert.equal(configFromEnv({ LOKDARPAN_RESYNC_PERIOD: '0s' }).resyncPeriod, 0);
  assert.throws(() => configFromEnv({ LOKDARPAN_RESYNC_PERIOD: '30s' }), /resyncPeriod: must be 0s \(off\) or between 1m and 7d/);
  // Past Node's 24.8-day timer limit a timeout fires at once: refused rather than resyncing in a loop.
  assert.throws(() => configFromEnv({ LOKDARPAN_RESYNC_PERIOD: '30d' }), /resyncPeriod/);
  assert.throws(() => configFromEnv({ LOKDARPAN_RESYNC_PERIOD: 'hourly' }), /resyncPeriod: "hourly" is not a duration/);
});
