// The Outcome every reconciler builds: generation, the health triple, invalid spec, failures, requeue.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { OperatorError } from '../../../src/errors.ts';
import type { Condition } from '../../../src/runtime/conditions.ts';
import { Outcome, earliestRequeue, failRun, invalidSpecMessage, operatorErrorOf, type RunStatusBase } from '../../../src/controllers/shared/outcome.ts';

const now = new Date('2026-03-10T12:00:00.000Z');
const earlier = '2026-03-01T00:00:00Z';
const object = (status: { observedGeneration?: number; conditions?: Condition[] } = {}) => ({ metadata: { generation: 4 }, status });
const byType = (out: Outcome<{ conditions?: unknown[] }>) => Object.fromEntries((out.conditions ?? []).map((c) => [c.type, c]));

test('starts from the object\'s status with its generation observed; conditions carry it and move lastTransitionTime only on a change', () => {
  const ready: Condition = { type: 'Ready', status: 'True', reason: 'Ready', message: 'ok', observedGeneration: 3, lastTransitionTime: earlier };
  const out = new Outcome(object({ observedGeneration: 3, conditions: [ready] }), now);
  assert.equal(out.status.observedGeneration, 4);
  out.set({ type: 'Ready', status: 'True', reason: 'Ready', message: 'still ok' }, { type: 'Stalled', status: 'False', reason: 'Idle', message: 'not stalled' });
  assert.deepEqual(out.condition('Ready'), { ...ready, message: 'still ok', observedGeneration: 4 });
  assert.equal(out.condition('Stalled')?.lastTransitionTime, '2026-03-10T12:00:00Z');
  assert.deepEqual(out.done(), { status: out.status, events: [] });
  assert.deepEqual(out.done(5_000), { status: out.status, events: [], requeueAfterMs: 5_000 });
});

test('idle: Reconciling and Stalled False with reason Idle', () => {
  const out = new Outcome(object(), now);
  out.idle();
  const c = byType(out);
  assert.deepEqual([c['Reconciling']?.status, c['Reconciling']?.reason, c['Stalled']?.status, c['Stalled']?.reason], ['False', 'Idle', 'False', 'Idle']);
});

test('an invalid spec stalls with one line naming each field, and a Warning event; parseSpec returns the spec or nothing', () => {
  const schema = z.object({ schedule: z.string(), batchSize: z.number().int().positive() }).strict();
  const out = new Outcome(object(), now);
  assert.deepEqual(out.parseSpec(schema, { schedule: '@daily', batchSize: 10 }), { schedule: '@daily', batchSize: 10 });
  assert.equal(out.events.length, 0);
  assert.equal(out.parseSpec(schema, { batchSize: -1 }), undefined);
  const c = byType(out);
  assert.equal(c['Ready']?.status, 'False');
  assert.equal(c['Ready']?.reason, 'InvalidSpec');
  assert.match(c['Ready']?.message ?? '', /^spec is invalid: schedule: .+; batchSize: .+$/);
  assert.equal(c['Stalled']?.status, 'True');
  assert.equal(c['Reconciling']?.status, 'False');
  assert.deepEqual(out.events.map((e) => [e.type, e.reason, e.action]), [['Warning', 'InvalidSpec', 'Validate']]);
  assert.equal(invalidSpecMessage(schema.safeParse({ schedule: 1, batchSize: 1 }).error!, 'BackupPolicy p is invalid').startsWith('BackupPolicy p is invalid: schedule: '), true);
});

test('a transient failure is retried (Reconciling True with the error\'s reason); a terminal one stalls, unless the reconcile was aborted', () => {
  const transient = new OperatorError('DatabaseUnavailable', 'connection refused');
  const retried = new Outcome(object(), now).failed(transient, 'Reconcile');
  assert.equal(retried.error, transient);
  const r = Object.fromEntries((retried.status.conditions as Condition[]).map((c) => [c.type, c]));
  assert.deepEqual([r['Ready']?.status, r['Reconciling']?.status, r['Stalled']?.status], ['False', 'True', 'False']);
  assert.equal(r['Reconciling']?.reason, 'DatabaseUnavailable');
  assert.match(r['Reconciling']?.message ?? '', /retrying with backoff: connection refused/);
  assert.deepEqual(retried.events, [{ type: 'Warning', reason: 'DatabaseUnavailable', action: 'Reconcile', note: 'connection refused' }]);

  const terminal = new OperatorError('ChecksumMismatch', '003 changed', { terminal: true });
  const stalled = Object.fromEntries((new Outcome(object(), now).failed(terminal, 'Migrate').status.conditions as Condition[]).map((c) => [c.type, c]));
  assert.deepEqual([stalled['Ready']?.status, stalled['Reconciling']?.status, stalled['Stalled']?.status], ['False', 'False', 'True']);
  assert.equal(stalled['Stalled']?.message, '003 changed');

  const aborted = Object.fromEntries((new Outcome(object(), now).failed(terminal, 'Migrate', true).status.conditions as Condition[]).map((c) => [c.type, c]));
  assert.equal(aborted['Stalled']?.status, 'False', 'a timeout or lost leadership is retried');
});

test('suspended: Ready False and the triple at rest with the same reason, no event', () => {
  const outcome = new Outcome(object(), now).suspended('Suspended', 'spec.suspend is true');
  const c = Object.fromEntries((outcome.status.conditions as Condition[]).map((x) => [x.type, x]));
  assert.deepEqual([c['Ready']?.status, c['Reconciling']?.status, c['Stalled']?.status], ['False', 'False', 'False']);
  assert.equal(new Set(Object.values(c).map((x) => x.reason)).size, 1);
  assert.deepEqual(outcome.events, []);
});

test('failRun ends a run Failed: phase, reason, message, completion time, Ready and Succeeded False, one Warning', () => {
  const out = new Outcome<RunStatusBase>({ metadata: { generation: 1 }, status: { phase: 'Running' } }, now);
  const outcome = failRun(out, 'Timeout', 'ran longer than 1h', 'Backup', new Date('2026-03-10T13:00:00.000Z'));
  assert.equal(outcome.status.phase, 'Failed');
  assert.equal(outcome.status.reason, 'Timeout');
  assert.equal(outcome.status.completionTime, '2026-03-10T13:00:00.000Z');
  assert.deepEqual((outcome.status.conditions as Condition[]).map((c) => [c.type, c.status, c.reason]), [['Ready', 'False', 'Timeout'], ['Succeeded', 'False', 'Timeout']]);
  assert.deepEqual(outcome.events, [{ type: 'Warning', reason: 'Timeout', action: 'Backup', note: 'ran longer than 1h' }]);
  assert.equal(outcome.error, undefined, 'a failed run is final, not retried');
});

test('operatorErrorOf keeps an OperatorError and wraps anything else with the fallback reason and its message', () => {
  const own = new OperatorError('SecretNotFound', 'no secret db');
  assert.equal(operatorErrorOf(own, 'ReconcileFailed'), own);
  const wrapped = operatorErrorOf(new TypeError('x is undefined'), 'BackupFailed');
  assert.equal(wrapped.reason, 'BackupFailed');
  assert.equal(wrapped.message, 'x is undefined');
  assert.equal(wrapped.terminal, false);
  assert.equal(operatorErrorOf('plain string', 'ReconcileFailed').message, 'plain string');
});

test('earliestRequeue: the soonest given delay, or none', () => {
  assert.equal(earliestRequeue(), undefined);
  assert.equal(earliestRequeue(undefined, undefined), undefined);
  assert.equal(earliestRequeue(undefined, 30_000, 5_000), 5_000);
});
