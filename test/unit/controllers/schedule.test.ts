// isDue: one rule for scheduled work and run-now annotations, for every kind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDue, msUntilEarliest } from '../../../src/controllers/shared/schedule.ts';

const now = new Date('2026-03-10T12:00:00.000Z');

test('due once its next scheduled time has come, not before', () => {
  for (const unscheduled of ['run-now', 'wait'] as const) {
    assert.equal(isDue({ next: '2026-03-10T12:00:00.000Z', unscheduled }, now), true);
    assert.equal(isDue({ next: '2026-03-10T11:00:00.000Z', unscheduled }, now), true);
    assert.equal(isDue({ next: '2026-03-10T12:00:01.000Z', unscheduled }, now), false);
  }
});

test('nothing scheduled yet: runs now, or waits for its first slot, as the kind says', () => {
  assert.equal(isDue({ next: undefined, unscheduled: 'run-now' }, now), true);
  assert.equal(isDue({ next: undefined, unscheduled: 'wait' }, now), false);
});

test('a run-now annotation makes it due once per value, whatever the schedule', () => {
  const later = '2026-03-11T00:00:00.000Z';
  assert.equal(isDue({ next: later, unscheduled: 'wait', request: 't1' }, now), true);
  assert.equal(isDue({ next: later, unscheduled: 'wait', request: 't1', lastRequest: 't0' }, now), true);
  assert.equal(isDue({ next: later, unscheduled: 'wait', request: 't1', lastRequest: 't1' }, now), false);
  assert.equal(isDue({ next: undefined, unscheduled: 'wait', request: 't1', lastRequest: 't1' }, now), false);
});

test('msUntilEarliest: the earliest time, at least a second away; undefined without times', () => {
  assert.equal(msUntilEarliest([], now), undefined);
  assert.equal(msUntilEarliest([undefined], now), undefined);
  assert.equal(msUntilEarliest(['2026-03-10T12:10:00.000Z', undefined, '2026-03-10T12:01:00.000Z'], now), 60_000);
  assert.equal(msUntilEarliest(['2026-03-10T11:00:00.000Z'], now), 1_000);
});
