import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LeaderElector, leaderIdentity, type Lease, type LeaseClient } from '../../../src/runtime/leader-election.ts';
import { ManualTimers, flushMicrotasks } from '../../../src/runtime/timers.ts';
import { createOperatorMetrics } from '../../../src/observability/metrics.ts';

class FakeLeases implements LeaseClient {
  lease: Lease | undefined;
  rv = 1;
  down = false;
  hang = false;
  writes: Lease[] = [];
  async get() {
    if (this.hang) return new Promise<never>(() => {});
    if (this.down) throw new Error('connect ECONNREFUSED');
    return this.lease ? structuredClone(this.lease) : undefined;
  }
  async create(lease: Lease) {
    if (this.down) throw new Error('connect ECONNREFUSED');
    if (this.lease) throw Object.assign(new Error('exists'), { code: 409 });
    this.lease = { ...structuredClone(lease), metadata: { ...lease.metadata, resourceVersion: String(++this.rv) } };
    this.writes.push(structuredClone(this.lease));
    return structuredClone(this.lease);
  }
  async replace(lease: Lease) {
    if (this.down) throw new Error('connect ECONNREFUSED');
    if (lease.metadata.resourceVersion !== this.lease?.metadata.resourceVersion) throw Object.assign(new Error('conflict'), { code: 409 });
    this.lease = { ...structuredClone(lease), metadata: { ...lease.metadata, resourceVersion: String(++this.rv) } };
    this.writes.push(structuredClone(this.lease));
    return structuredClone(this.lease);
  }
}

function elector(client: LeaseClient, timers: ManualTimers, identity: string, log: string[], extra: Partial<ConstructorParameters<typeof LeaderElector>[0]> = {}) {
  return new LeaderElector({
    client,
    timers,
    namespace: 'ops',
    name: 'lokdarpan-operator',
    identity,
    random: () => 0,
    onStartedLeading: () => log.push(`${identity}:start`),
    onStoppedLeading: () => log.push(`${identity}:stop`),
    ...extra,
  });
}

/** Candidate `a` started on a fresh fake Lease (it leads), with its callbacks logged. */
async function oneCandidate() {
  const timers = new ManualTimers(1_000_000);
  const leases = new FakeLeases();
  const log: string[] = [];
  const a = elector(leases, timers, 'a', log);
  a.start();
  await timers.advance(0);
  return { timers, leases, log, a };
}

/** `a` (the leader) and then `b` started on one fake Lease. */
async function twoCandidates() {
  const one = await oneCandidate();
  const b = elector(one.leases, one.timers, 'b', one.log);
  b.start();
  await one.timers.advance(0);
  return { ...one, b };
}

test('identity is unique per call and starts with the pod name', () => {
  const a = leaderIdentity('op-0');
  assert.match(a, /^op-0_[0-9a-f]{8}$/);
  assert.notEqual(a, leaderIdentity('op-0'));
});

test('rejects inconsistent durations', () => {
  const timers = new ManualTimers();
  assert.throws(() => elector(new FakeLeases(), timers, 'a', [], { leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }));
});

test('the first candidate creates the Lease with MicroTimes; the second waits; exactly one leads', async () => {
  const timers = new ManualTimers(Date.parse('2026-02-01T00:00:00.5Z'));
  const leases = new FakeLeases();
  const log: string[] = [];
  const metrics = createOperatorMetrics(undefined, { defaultMetrics: false });
  const a = elector(leases, timers, 'a', log, { metrics });
  const b = elector(leases, timers, 'b', log);
  a.start();
  await timers.advance(0);
  b.start();
  await timers.advance(0);
  assert.deepEqual(log, ['a:start']);
  assert.equal(a.isLeader(), true);
  assert.equal(b.isLeader(), false);
  assert.equal(b.observedLeader, 'a');
  assert.equal(leases.lease?.spec?.holderIdentity, 'a');
  assert.equal(leases.lease?.spec?.leaseDurationSeconds, 15);
  assert.equal(leases.lease?.spec?.renewTime, '2026-02-01T00:00:00.500000Z');
  const status = await metrics.registry.getSingleMetric('leader_election_master_status')!.get();
  assert.equal(status.values[0]?.value, 1);
  // Renewals keep b out indefinitely.
  await timers.advance(60_000);
  assert.deepEqual(log, ['a:start']);
  assert.ok(leases.writes.length > 20, 'the leader renews every retry period');
  assert.equal(leases.lease?.spec?.leaseTransitions, 0);
  await a.stop({ release: false });
  await b.stop();
});

test('a killed leader (no release) is replaced after the lease duration, not before', async () => {
  const { timers, leases, a, b } = await twoCandidates();
  await a.stop({ release: false });
  const killedAt = timers.now();
  while (!b.isLeader() && timers.now() - killedAt < 30_000) await timers.advance(500);
  const handover = timers.now() - killedAt;
  assert.ok(handover >= 13_000 && handover <= 17_000, `handover after ${handover} ms`);
  assert.equal(leases.lease?.spec?.holderIdentity, 'b');
  assert.equal(leases.lease?.spec?.leaseTransitions, 1);
  await b.stop();
});

test('a graceful stop releases the Lease so a candidate takes it at its next retry', async () => {
  const { timers, leases, log, a, b } = await twoCandidates();
  await a.stop();
  assert.deepEqual(log, ['a:start', 'a:stop']);
  assert.equal(leases.lease?.spec?.holderIdentity, undefined);
  await timers.advance(2000);
  assert.equal(b.isLeader(), true);
  await b.stop();
});

test('a leader that cannot renew (API down or hanging) steps down at the renew deadline', async () => {
  for (const failure of ['down', 'hang'] as const) {
    const { timers, leases, log, a } = await oneCandidate();
    leases[failure] = true;
    await timers.advance(9_999);
    assert.equal(a.isLeader(), true, failure);
    await timers.advance(1);
    assert.equal(a.isLeader(), false, failure);
    assert.deepEqual(log, ['a:start', 'a:stop']);
    assert.equal(a.participating, false);
    await timers.advance(30_000);
    assert.deepEqual(log, ['a:start', 'a:stop'], 'no flapping after stepping down');
    leases.hang = false;
    await a.stop();
  }
});

test('a leader that sees another holder steps down at once', async () => {
  const { timers, leases, log, a } = await oneCandidate();
  leases.lease!.spec!.holderIdentity = 'intruder';
  leases.lease!.metadata.resourceVersion = '999';
  await timers.advance(2000);
  await flushMicrotasks();
  assert.deepEqual(log, ['a:start', 'a:stop']);
  await a.stop();
});

test('holdsLease turns false once the last renewal is older than the renew deadline, before any timer runs', async () => {
  const manual = new ManualTimers(1_000_000);
  let frozenFor = 0;
  // A process frozen (SIGSTOP) for a while: its clock jumps, but no timer has run yet.
  const timers = { now: () => manual.now() + frozenFor, setTimeout: manual.setTimeout.bind(manual), clearTimeout: manual.clearTimeout.bind(manual) };
  const leases = new FakeLeases();
  const a = new LeaderElector({ client: leases, timers, namespace: 'ops', name: 'lokdarpan-operator', identity: 'a', random: () => 0 });
  a.start();
  await manual.advance(0);
  assert.equal(a.holdsLease(), true);
  frozenFor = 9_000;
  assert.equal(a.holdsLease(), true);
  frozenFor = 10_000;
  assert.equal(a.isLeader(), true, 'the deadline timer has not run yet');
  assert.equal(a.holdsLease(), false, 'but the lease is no longer known to be ours');
  await a.stop({ release: false });
});
