// The operator at its edges (issue 11), two replicas with leader election under the ServiceAccount, real
// kube-apiserver and PostgreSQL; hung databases come from the fault-injecting TCP proxy (stall-queries: the
// session opens, its first query is never answered).
// - far-away schedules (yearly, quarterly) leave the leader idle: little CPU, no TimeoutOverflowWarning;
// - deleting resources removes their series from /metrics;
// - four hung databases (as many as the controller's workers) do not delay another database's Ready;
// - a leader frozen (SIGSTOP) mid-work while the other takes over writes nothing after it is resumed
//   (SIGCONT), and exits non-zero at once instead of waiting out its shutdown grace.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { startTcpProxy, type TcpProxy } from '../env/index.ts';
import { LDB_PATH, OPERATOR_NAMESPACE, condition, eventually, sleep, startOperatorHarness, uniqueName, type OperatorHarness, type OperatorProcess } from './operator-harness.ts';
import { GENEROUS_WAIT_MS, SUITE_TIMEOUT_MS } from '../wait.ts';

const YEARLY = '0 2 1 1 *';
const QUARTERLY = '0 3 1 */3 *';
const RECONCILE_TIMEOUT_SECONDS = 8;
const SHUTDOWN_GRACE_SECONDS = 120;

interface Lease {
  spec: { holderIdentity?: string };
}

interface EventV1 {
  reportingInstance?: string;
  eventTime?: string;
  reason?: string;
  note?: string;
  series?: { lastObservedTime?: string };
  regarding?: { name?: string };
}

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  // After ")": state is field 3, utime field 14, stime field 15 (1-based in proc(5)).
  return (Number(fields[11]) + Number(fields[12])) / ticks;
}

function processState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? '';
}

describe('operator at the edges: long schedules, hung databases, lost leadership, deleted series', { timeout: SUITE_TIMEOUT_MS }, () => {
  let h: OperatorHarness;
  const replicas: OperatorProcess[] = [];
  const proxies: TcpProxy[] = [];

  before(async () => {
    h = await startOperatorHarness();
    const env = (pod: string): Record<string, string> => ({
      LOKDARPAN_LEADER_ELECTION: 'true',
      POD_NAME: pod,
      POD_NAMESPACE: OPERATOR_NAMESPACE,
      LOKDARPAN_RECONCILE_TIMEOUT_SECONDS: String(RECONCILE_TIMEOUT_SECONDS),
      LOKDARPAN_SHUTDOWN_GRACE_SECONDS: String(SHUTDOWN_GRACE_SECONDS),
      LOG_LEVEL: 'info',
    });
    replicas.push(...(await Promise.all([h.startOperator({ name: 'edge-a', env: env('edge-a') }), h.startOperator({ name: 'edge-b', env: env('edge-b') })])));
  });

  after(async () => {
    await h?.stop();
    await Promise.all(proxies.map((p) => p.close()));
  });

  const holder = async (): Promise<string> =>
    ((JSON.parse(await h.kubectlOk(['get', 'lease', 'lokdarpan-operator', '-n', OPERATOR_NAMESPACE, '-o', 'json'])) as Lease).spec.holderIdentity ?? '');
  const leader = async (): Promise<OperatorProcess> => {
    const identity = await eventually('a lease holder', async () => (await holder()) || undefined);
    const found = replicas.find((r) => identity.startsWith(`${r.name}_`));
    assert.ok(found, `the holder ${identity} is one of the replicas`);
    return found;
  };
  const retentionPolicy = (name: string, database: string, schedule: string): string =>
    JSON.stringify({ apiVersion: 'lokdarpan.io/v1alpha1', kind: 'RetentionPolicy', metadata: { name, namespace: h.namespace }, spec: { databaseRef: { name: database }, schedule } });
  const getPolicy = (name: string): Promise<{ status?: { conditions?: { type: string; status: string; reason: string }[]; nextRunTime?: string } }> =>
    h.client.get(`${LDB_PATH}/namespaces/${h.namespace}/retentionpolicies/${name}`);
  /** A database whose every session hangs at its first query. */
  const hungDatabase = async (name: string): Promise<TcpProxy> => {
    const db = await h.createDatabase();
    const target = new URL(db.appUrl);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) }, { mode: 'stall-queries' });
    proxies.push(proxy);
    await h.applySecret(h.namespace, `${name}-db`, { ...db, appUrl: proxy.rewrite(db.appUrl) });
    await h.kubectlOk(['apply', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'lokdarpan.io/v1alpha1', kind: 'LokdarpanDatabase', metadata: { name, namespace: h.namespace }, spec: { connection: { secretName: `${name}-db` } } }),
    });
    return proxy;
  };

  it('yearly and quarterly schedules leave the leader idle (CPU under 2 % of a core over 20 s, no TimeoutOverflowWarning)', async () => {
    const far = await h.applyDatabase({ name: 'far', spec: { views: { refreshSchedule: YEARLY }, validation: { schedule: QUARTERLY } } });
    await h.kubectlOk(['apply', '-f', '-'], { input: retentionPolicy('yearly', far.name, YEARLY) });
    await h.kubectlOk(['apply', '-f', '-'], { input: retentionPolicy('quarterly', far.name, QUARTERLY) });
    await h.waitForCondition(far.namespace, far.name, 'Ready', 'True');
    for (const name of ['yearly', 'quarterly']) {
      await eventually(`RetentionPolicy ${name} waits for its first slot`, async () => (await getPolicy(name)).status?.conditions?.some((c) => c.type === 'Ready' && c.reason === 'NotRunYet'));
    }
    const yearlyNext = Date.parse((await getPolicy('yearly')).status?.nextRunTime ?? '');
    assert.ok(yearlyNext - Date.now() > 2 ** 31 - 1 || new Date().getUTCMonth() === 11, 'the yearly slot is beyond the timer limit (except in late December)');
    // Let the echoes of the last status writes settle, then measure.
    await sleep(3_000);
    const lead = await leader();
    const pid = lead.process.child.pid;
    assert.ok(pid !== undefined);
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    const cpuBefore = cpuSeconds(pid);
    const wallBefore = Date.now();
    await sleep(20_000);
    const cpu = cpuSeconds(pid) - cpuBefore;
    const wall = (Date.now() - wallBefore) / 1000;
    const share = cpu / wall;
    console.log(`idle leader with yearly/quarterly schedules: ${cpu.toFixed(2)} CPU s over ${wall.toFixed(1)} s = ${(share * 100).toFixed(2)} % of a core (load average ${load})`);
    assert.ok(share < 0.02, `the leader used ${(share * 100).toFixed(2)} % of a core while idle`);
    for (const r of replicas) assert.doesNotMatch(r.log(), /TimeoutOverflowWarning/, `${r.name} printed no TimeoutOverflowWarning`);
  });

  it('deleting a LokdarpanDatabase and a RetentionPolicy removes their series from /metrics', async () => {
    const lead = await leader();
    const dbSeries = new RegExp(`^lokdarpan_database_ready\\{[^}]*name="far"`, 'm');
    const policySeries = new RegExp(`^lokdarpan_retention_expected_interval_seconds\\{[^}]*policy="quarterly"`, 'm');
    const metrics = async (): Promise<string> => (await lead.http('/metrics')).body;
    const before = await metrics();
    assert.match(before, dbSeries, 'the database has its series before');
    assert.match(before, policySeries, 'the policy has its series before');
    await h.kubectlOk(['delete', 'retentionpolicy', 'quarterly', 'yearly', '-n', h.namespace]);
    await h.kubectlOk(['delete', 'lokdarpandatabase', 'far', '-n', h.namespace]);
    await eventually('the deleted resources\' series to disappear', async () => {
      const text = await metrics();
      return !dbSeries.test(text) && !policySeries.test(text) && !/name="far"/.test(text) && !/policy="(quarterly|yearly)"/.test(text);
    }, GENEROUS_WAIT_MS, async () => (await metrics()).split('\n').filter((l) => /name="far"|policy="(quarterly|yearly)"/.test(l)).join('\n'));
  });

  it('four hung databases (as many as the workers) do not delay another database\'s Ready', async () => {
    const hung = await Promise.all(['hung-1', 'hung-2', 'hung-3', 'hung-4'].map((name) => hungDatabase(name)));
    await eventually('every hung database to hold a reconcile (its first query stalled)', async () => hung.every((p) => p.stalled >= 1));
    const created = Date.now();
    const good = await h.applyDatabase({ name: uniqueName('good') });
    await h.waitForCondition(good.namespace, good.name, 'Ready', 'True');
    console.log(`a healthy database next to 4 hung ones was Ready after ${Date.now() - created} ms (reconcile timeout ${RECONCILE_TIMEOUT_SECONDS} s)`);
    const hungStatus = await h.waitForCondition(h.namespace, 'hung-1', 'Ready', 'False', { reason: 'ReconcileTimeout' });
    assert.match(condition(hungStatus, 'Ready')?.message ?? '', /took longer than/);
    await h.kubectlOk(['delete', 'lokdarpandatabase', 'hung-1', 'hung-2', 'hung-3', 'hung-4', '-n', h.namespace, '--wait=false']);
  });

  it('a leader frozen mid-work writes nothing after the other replica took over, and exits at once', async () => {
    const old = await leader();
    const oldIdentity = await holder();
    const other = replicas.find((r) => r !== old);
    assert.ok(other);
    const pid = old.process.child.pid;
    assert.ok(pid !== undefined);
    const proxy = await hungDatabase('frozen');
    await eventually('the leader to be mid-work on the hung database', async () => proxy.stalled >= 1);
    process.kill(pid, 'SIGSTOP');
    await eventually('the leader to be stopped', async () => processState(pid) === 'T', GENEROUS_WAIT_MS);
    const stoppedAt = Date.now();
    try {
      await eventually('the other replica to take the Lease', async () => (await holder()).startsWith(`${other.name}_`));
      // The new leader reconciles the hung database too (its own status and event for it).
      await eventually('the new leader to be working on the hung database', async () => proxy.stalled >= 2);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const resumedAt = Date.now();
    const code = await Promise.race([old.process.exited, sleep(SHUTDOWN_GRACE_SECONDS * 500).then(() => 'still running' as const)]);
    const exitMs = Date.now() - resumedAt;
    console.log(`deposed leader: frozen ${resumedAt - stoppedAt} ms, exited ${exitMs} ms after it was resumed with code ${String(code)}`);
    assert.notEqual(code, 'still running', `the deposed leader did not exit within half its ${SHUTDOWN_GRACE_SECONDS} s grace:\n${old.process.tail(20)}`);
    assert.notEqual(code, 0, 'it exits non-zero so that its pod restarts');
    const log = old.log();
    assert.match(log, /leadership lost; no more API writes/);
    assert.match(log, /refusing to write the status of LokdarpanDatabase lokdarpan\/frozen: this replica no longer leads/, 'the fence refused the aborted reconcile\'s status write');
    // Nothing it recorded after the freeze reached the API server (eventTime is the writer's own clock).
    const events = (JSON.parse(await h.kubectlOk(['get', 'events.v1.events.k8s.io', '-n', h.namespace, '-o', 'json'])) as { items: EventV1[] }).items;
    const mine = events.filter((e) => e.reportingInstance === oldIdentity);
    assert.ok(mine.length > 0, 'the old leader did record events while it led (the check can see them)');
    const late = mine.filter((e) => Date.parse(e.series?.lastObservedTime ?? e.eventTime ?? '') >= stoppedAt);
    assert.deepEqual(late.map((e) => `${e.regarding?.name}: ${e.reason} ${e.note}`), [], 'no event from the old leader after it was frozen');
    // The new leader's reconcile of the hung database times out too, and it may write: its status and event.
    await eventually('the new leader to record the hung database\'s timeout', async () => {
      const all = (JSON.parse(await h.kubectlOk(['get', 'events.v1.events.k8s.io', '-n', h.namespace, '-o', 'json'])) as { items: EventV1[] }).items;
      return all.some((e) => e.regarding?.name === 'frozen' && e.reportingInstance?.startsWith(`${other.name}_`));
    });
    await h.waitForCondition(h.namespace, 'frozen', 'Ready', 'False', { reason: 'ReconcileTimeout' });
  });
});
