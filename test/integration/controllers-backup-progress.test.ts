// A running Backup and Restore report progress in status while they stream: bytes so far, average
// rate, elapsed time and, against the database's size (backup) or the stored size (restore), an
// estimate of the total and the time left. The operator runs with LOKDARPAN_PROGRESS_INTERVAL=1s and
// the test's pg_dump wrapper releases the dump over ~6 s (pg_restore waits ~4 s before reading), so a
// small database is enough to see several updates.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describe as describeObj, isFinished, pgDumpControl, sleep, startControllersEnv, type ControllersEnv, type Obj } from './controllers-harness.ts';
import { SUITE_TIMEOUT_MS } from '../wait.ts';

const BUCKET = 'progress-backups';

interface Seen {
  phase: string;
  progress?: Record<string, any>;
  message?: string;
}

/** Waits until the object is Completed or Failed, recording every distinct status.progress seen while Running. */
async function watchProgress(env: ControllersEnv, plural: 'backups' | 'restores', name: string): Promise<{ running: Seen[]; final: Obj }> {
  const running: Seen[] = [];
  const final = await env.waitFor(plural, name, 'Completed or Failed (recording its progress)', (o) => {
    if (isFinished(o)) return true;
    const progress = o.status?.['progress'] as Record<string, any> | undefined;
    if (o.status?.['phase'] === 'Running' && progress && running.at(-1)?.progress?.['updateTime'] !== progress['updateTime']) {
      running.push({ phase: 'Running', progress, message: o.status?.['message'] });
    }
    return false;
  });
  return { running, final };
}

describe('Progress of running Backups and Restores', { timeout: SUITE_TIMEOUT_MS }, () => {
  let env: ControllersEnv;
  let dbName: string;

  before(async () => {
    env = await startControllersEnv({ buckets: { primary: [BUCKET] } });
    await env.startOperator({ env: { LOKDARPAN_PROGRESS_INTERVAL: '1s' } });
    const db = await env.readyDatabase('progressdb');
    dbName = db.name;
    await env.h.seed(env.h.databaseOf(env.h.namespace, db.name), { posts: 1500, embeddings: 100 });
    await env.apply({
      apiVersion: 'lokdarpan.io/v1alpha1',
      kind: 'BackupPolicy',
      metadata: { name: 'progress', namespace: env.h.namespace },
      // Yearly: no scheduled run interferes; the test creates its Backup by hand.
      spec: { databaseRef: { name: db.name }, schedule: '0 2 1 1 *', destination: env.destination('primary', 'primary', BUCKET), recipients: [env.key.recipient] },
    });
  });

  after(async () => {
    if (env) pgDumpControl(env.wrapperDir, {});
    await env?.stop();
  });

  it('a running Backup reports bytes, rate, elapsed and an estimate, updated while it runs', async () => {
    pgDumpControl(env.wrapperDir, { throttle: 6 });
    await env.apply({
      apiVersion: 'lokdarpan.io/v1alpha1',
      kind: 'Backup',
      metadata: { name: 'progress-1', namespace: env.h.namespace },
      spec: { policyRef: { name: 'progress' } },
    });
    const { running, final } = await watchProgress(env, 'backups', 'progress-1');
    pgDumpControl(env.wrapperDir, {});
    assert.equal(final.status?.['phase'], 'Completed', describeObj(final));
    assert.ok(running.filter((s) => s.progress?.['bytes'] > 0).length >= 2, `at least two progress updates with bytes while Running: ${JSON.stringify(running)}`);
    const bytes = running.map((s) => s.progress?.['bytes'] as number);
    assert.deepEqual(bytes, [...bytes].sort((a, b) => a - b), `bytes never go down: ${bytes.join(', ')}`);
    assert.ok(bytes.at(-1)! > bytes[0]!, `bytes grew while Running: ${bytes.join(', ')}`);
    assert.ok(bytes.at(-1)! <= final.status?.['plainBytes'], 'progress counts pg_dump output');
    for (const s of running) {
      // Before pg_dump's first byte (the wrapper dumps to a file first) the rate is 0.
      assert.ok(s.progress?.['bytes'] === 0 || s.progress?.['bytesPerSecond'] > 0, JSON.stringify(s.progress));
      assert.ok(s.progress?.['elapsedSeconds'] >= 0, JSON.stringify(s.progress));
      assert.match(s.message ?? '', new RegExp(`^dumping \\S+ to primary: .* elapsed`));
    }
    // The database's size is known, so the first updates (well below it) carry an estimate and a time left.
    const first = running.find((s) => s.progress?.['bytes'] > 0);
    assert.ok(first, `an update with bytes: ${JSON.stringify(running)}`);
    assert.ok(first.progress!['totalBytes'] > first.progress!['bytes'], `estimate: ${JSON.stringify(first)}`);
    assert.ok(first.progress!['etaSeconds'] >= 0 && first.progress!['percent'] >= 0 && first.progress!['percent'] < 100, JSON.stringify(first));
    assert.match(first.message ?? '', /of ~.* \(\d+%\), .*\/s, .* elapsed, about .* left/);
    // Updates are spaced by the interval (1 s here, 10 s by default): never more often.
    const times = running.map((s) => Date.parse(s.progress?.['updateTime']));
    for (let i = 1; i < times.length; i++) assert.ok(times[i]! - times[i - 1]! >= 900, `updates ${times[i - 1]} and ${times[i]} closer than the interval`);
    // Nothing is written after the final status: the kept progress predates the completion.
    await sleep(2500);
    const later = await env.get('backups', 'progress-1');
    assert.equal(later?.status?.['phase'], 'Completed');
    assert.ok(Date.parse(later?.status?.['progress']?.['updateTime']) <= Date.parse(later?.status?.['completionTime']), describeObj(later));
  });

  it('a running Restore reports the bytes downloaded of the stored size', async () => {
    const backup = await env.get('backups', 'progress-1');
    pgDumpControl(env.wrapperDir, { restoreSleepBefore: 4 });
    await env.apply({
      apiVersion: 'lokdarpan.io/v1alpha1',
      kind: 'Restore',
      metadata: { name: 'progress-restore', namespace: env.h.namespace },
      spec: { backupRef: { name: 'progress-1' }, target: { connectionSecret: env.superuserSecret, databaseName: `${dbName}_progress` }, identitySecret: { name: 'age-identity' } },
    });
    const { running, final } = await watchProgress(env, 'restores', 'progress-restore');
    pgDumpControl(env.wrapperDir, {});
    assert.equal(final.status?.['phase'], 'Completed', describeObj(final));
    assert.ok(running.length >= 1, `progress while Running: ${JSON.stringify(running)}`);
    const stored = backup?.status?.['encryptedBytes'] as number;
    for (const s of running) {
      assert.equal(s.progress?.['totalBytes'] ?? stored, stored, 'the total is the stored size');
      assert.ok(s.progress?.['bytes'] > 0 && s.progress?.['bytes'] <= stored, JSON.stringify(s.progress));
      assert.match(s.message ?? '', /^restoring into \S+: .* elapsed/);
    }
  });
});
