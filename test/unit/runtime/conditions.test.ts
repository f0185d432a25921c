import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  setCondition,
  setConditions,
  getCondition,
  isConditionTrue,
  removeCondition,
  type Condition,
} from '../../../src/runtime/conditions.ts';

const t0 = new Date('2026-01-01T00:00:00.123Z');
const t1 = new Date('2026-01-01T00:05:00.456Z');

test('a new condition gets now as lastTransitionTime (seconds precision) and the generation', () => {
  const list = setCondition(undefined, { type: 'Ready', status: 'False', reason: 'SecretNotFound', message: 'no secret' }, 3, t0);
  assert.deepEqual(list, [
    {
      type: 'Ready',
      status: 'False',
      reason: 'SecretNotFound',
      message: 'no secret',
      observedGeneration: 3,
      lastTransitionTime: '2026-01-01T00:00:00Z',
    },
  ]);
});

test('lastTransitionTime changes only when status changes; reason/message/generation always update', () => {
  const a = setCondition([], { type: 'Ready', status: 'False', reason: 'SecretNotFound', message: 'x' }, 1, t0);
  const b = setCondition(a, { type: 'Ready', status: 'False', reason: 'DatabaseUnavailable', message: 'y' }, 2, t1);
  assert.equal(b[0]?.lastTransitionTime, '2026-01-01T00:00:00Z');
  assert.equal(b[0]?.reason, 'DatabaseUnavailable');
  assert.equal(b[0]?.message, 'y');
  assert.equal(b[0]?.observedGeneration, 2);
  const c = setCondition(b, { type: 'Ready', status: 'True', reason: 'Ready' }, 2, t1);
  assert.equal(c[0]?.lastTransitionTime, '2026-01-01T00:05:00Z');
  assert.equal(c[0]?.message, '');
  assert.equal(a[0]?.reason, 'SecretNotFound', 'the input list is not mutated');
});

test('conditions are keyed by type and keep their order', () => {
  let list: Condition[] = setConditions(
    undefined,
    [
      { type: 'Ready', status: 'Unknown', reason: 'NotRunYet' },
      { type: 'Reconciling', status: 'True', reason: 'DatabaseUnavailable' },
      { type: 'Stalled', status: 'False', reason: 'DatabaseUnavailable' },
    ],
    1,
    t0,
  );
  list = setCondition(list, { type: 'Reconciling', status: 'False', reason: 'Idle' }, 1, t1);
  assert.deepEqual(list.map((c) => c.type), ['Ready', 'Reconciling', 'Stalled']);
  assert.equal(getCondition(list, 'Reconciling')?.status, 'False');
  assert.equal(isConditionTrue(list, 'Ready'), false);
  assert.deepEqual(removeCondition(list, 'Stalled').map((c) => c.type), ['Ready', 'Reconciling']);
});

test('messages are one line and bounded', () => {
  const list = setCondition([], { type: 'Ready', status: 'False', reason: 'ReconcileFailed', message: 'a\n  b\n' + 'z'.repeat(5000) }, undefined, t0);
  assert.ok(!list[0]?.message.includes('\n'));
  assert.ok(list[0]!.message.startsWith('a b'));
  assert.equal(list[0]?.message.length, 1024);
  assert.equal('observedGeneration' in list[0]!, false);
});
