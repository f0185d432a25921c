import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cron } from 'croner';
import { checkCronExpression, isKnownTimeZone, nextRun, previousRun } from '../../../src/api/schedule.ts';
import { INVALID_SCHEDULES, VALID_SCHEDULES } from './cron-cases.ts';
import { parseDuration, formatDuration } from '../../../src/api/duration.ts';
import { lokdarpanDatabaseSpecSchema } from '../../../src/api/lokdarpan-database.ts';

test('5-field cron expressions are accepted, 6-field and malformed ones refused with the reason', () => {
  assert.equal(checkCronExpression('0 * * * *'), undefined);
  assert.equal(checkCronExpression('*/15 2-4 * * 1-5'), undefined);
  assert.match(checkCronExpression('0 0 * * * *') ?? '', /6 fields/);
  assert.match(checkCronExpression('@daily') ?? '', /1 fields/);
  assert.match(checkCronExpression('0  * * * *') ?? '', /fields/);
});

test('every field is range-checked with a message naming the field', () => {
  for (const expression of VALID_SCHEDULES) assert.equal(checkCronExpression(expression), undefined, expression);
  for (const [expression, problem] of INVALID_SCHEDULES) assert.match(checkCronExpression(expression) ?? 'accepted', problem, expression);
});

test('what the grammar accepts, croner runs; what croner refuses, the grammar refuses', () => {
  for (const expression of VALID_SCHEDULES) assert.doesNotThrow(() => new Cron(expression, { paused: true, mode: '5-part' }), expression);
  // Exhaustive over single values and ranges of each field: the grammar never lets through what croner refuses.
  const samples = ['*', '*/1', '*/7', '*/13', '*/60', '0', '00', '1', '7', '8', '12', '13', '23', '24', '31', '32', '59', '60', '1-5', '5-1', '0-7', '7-7', '1-12/3', 'jan', 'JAN', 'dec', 'jan-mar', 'mar-jan', 'sun', 'mon-fri', 'fri-mon', 'fri-sun', 'sun-sat', 'L', '?', '5#2'];
  for (let index = 0; index < 5; index++) {
    for (const sample of samples) {
      const fields = ['0', '0', '1', '1', '*'];
      fields[index] = sample;
      const expression = fields.join(' ');
      if (checkCronExpression(expression) !== undefined) continue;
      assert.doesNotThrow(() => new Cron(expression, { paused: true, mode: '5-part' }), expression);
    }
  }
});

test('schedules are read in their time zone', () => {
  const at = new Date('2026-03-10T10:30:00Z');
  assert.equal(nextRun('0 2 * * *', 'Asia/Kolkata', at).toISOString(), '2026-03-10T20:30:00.000Z');
  assert.equal(nextRun('0 * * * *', 'UTC', at).toISOString(), '2026-03-10T11:00:00.000Z');
  assert.equal(previousRun('30 10 * * *', 'UTC', at)?.toISOString(), '2026-03-10T10:30:00.000Z');
  assert.equal(previousRun('0 * * * *', 'UTC', at)?.toISOString(), '2026-03-10T10:00:00.000Z');
  assert.ok(isKnownTimeZone('Asia/Kolkata'));
  assert.ok(!isKnownTimeZone('Mars/Olympus_Mons'));
});

test('durations have one grammar', () => {
  assert.equal(parseDuration('90d'), 90 * 86_400_000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(formatDuration(3_600_000), '1h');
  assert.throws(() => parseDuration('1h30m'), /not a duration/);
  assert.throws(() => parseDuration('-5s'), /not a duration/);
});

test('a LokdarpanDatabase spec gets its defaults and rejects a bad schedule', () => {
  const spec = lokdarpanDatabaseSpecSchema.parse({ connection: { secretName: 'db' } });
  assert.equal(spec.views.refreshSchedule, '0 * * * *');
  assert.equal(spec.validation.thresholds.vectorSearchP95Ms, 50);
  assert.equal(spec.migrations.lockTimeout, '60s');
  const bad = lokdarpanDatabaseSpecSchema.safeParse({ connection: { secretName: 'db' }, views: { refreshSchedule: '0 0 * * * *' } });
  assert.equal(bad.success, false);
});
