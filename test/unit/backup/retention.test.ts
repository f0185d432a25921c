// The GFS retention planner, table-tested against a fixed clock: keepLast / keepDaily / keepWeekly /
// keepMonthly select the newest backup of each period, maxAge removes older ones except the newest,
// future-dated backups stay.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isoWeekKey, planRetention, type PlannedBackup, type RetentionRules } from '../../../src/engines/backup/retention.ts';

const DAY = 86_400_000;

/** One backup per day at 02:00 UTC for `days` days ending at `end`, plus extra ones given by ISO time. */
function daily(end: string, days: number, extra: string[] = []): PlannedBackup[] {
  const last = new Date(end).getTime();
  const list = Array.from({ length: days }, (_, i) => new Date(last - i * DAY)).map((d) => ({ id: d.toISOString(), time: d }));
  return [...list, ...extra.map((t) => ({ id: t, time: new Date(t) }))];
}

function kept(backups: PlannedBackup[], rules: RetentionRules, now: string): string[] {
  return planRetention(backups, rules, new Date(now)).keep.map((d) => d.id.slice(0, 16));
}

describe('isoWeekKey', () => {
  it('follows ISO 8601 across year boundaries', () => {
    const cases: Array<[string, string]> = [
      ['2026-01-01T00:00:00Z', '2026-W01'], // Thursday
      ['2025-12-29T00:00:00Z', '2026-W01'], // Monday of week 1 of 2026
      ['2027-01-01T00:00:00Z', '2026-W53'], // Friday, 2026 has 53 weeks
      ['2026-03-01T23:59:59Z', '2026-W09'], // Sunday ends week 9
      ['2026-03-02T00:00:00Z', '2026-W10'],
    ];
    for (const [date, week] of cases) assert.equal(isoWeekKey(new Date(date)), week, date);
  });
});

describe('planRetention', () => {
  const now = '2026-03-31T12:00:00Z';
  const backups = daily('2026-03-31T02:00:00Z', 120); // 2025-12-02 .. 2026-03-31

  const table: Array<{ name: string; rules: RetentionRules; keep: string[] }> = [
    { name: 'nothing configured keeps only the newest', rules: {}, keep: ['2026-03-31T02:00'] },
    { name: 'keepLast 3', rules: { keepLast: 3 }, keep: ['2026-03-31T02:00', '2026-03-30T02:00', '2026-03-29T02:00'] },
    { name: 'keepDaily 2', rules: { keepDaily: 2 }, keep: ['2026-03-31T02:00', '2026-03-30T02:00'] },
    {
      name: 'keepWeekly 3 keeps the newest of each ISO week (Sundays, and the current week\'s newest)',
      rules: { keepWeekly: 3 },
      keep: ['2026-03-31T02:00', '2026-03-29T02:00', '2026-03-22T02:00'],
    },
    {
      name: 'keepMonthly 4 keeps the last backup of each month',
      rules: { keepMonthly: 4 },
      keep: ['2026-03-31T02:00', '2026-02-28T02:00', '2026-01-31T02:00', '2025-12-31T02:00'],
    },
    {
      name: 'rules combine; a backup kept by several rules counts once',
      rules: { keepLast: 1, keepDaily: 3, keepWeekly: 2, keepMonthly: 2 },
      keep: ['2026-03-31T02:00', '2026-03-30T02:00', '2026-03-29T02:00', '2026-02-28T02:00'],
    },
    {
      name: 'maxAge removes what the rules would keep, beyond the age',
      rules: { keepMonthly: 12, maxAgeMs: 45 * DAY },
      keep: ['2026-03-31T02:00', '2026-02-28T02:00'],
    },
  ];
  for (const row of table) {
    it(row.name, () => assert.deepEqual(kept(backups, row.rules, now), row.keep));
  }

  it('several backups a day: daily keeps the newest of the day, last counts every one', () => {
    const list = daily('2026-03-31T02:00:00Z', 3, ['2026-03-31T08:00:00Z', '2026-03-31T14:00:00Z']);
    const evening = '2026-03-31T20:00:00Z';
    assert.deepEqual(kept(list, { keepDaily: 2 }, evening), ['2026-03-31T14:00', '2026-03-30T02:00']);
    assert.deepEqual(kept(list, { keepLast: 2 }, evening), ['2026-03-31T14:00', '2026-03-31T08:00']);
  });

  it('counts periods that have backups, not calendar days: a gap does not empty keepDaily', () => {
    const list = [...daily('2026-03-01T02:00:00Z', 3)];
    assert.deepEqual(kept(list, { keepDaily: 2 }, now), ['2026-03-01T02:00', '2026-02-28T02:00']);
  });

  it('never deletes the newest backup because of maxAge, and keeps future-dated ones', () => {
    const list = [...daily('2026-01-01T02:00:00Z', 3), { id: '2026-04-02T00:00:00Z', time: new Date('2026-04-02T00:00:00Z') }];
    const plan = planRetention(list, { keepLast: 5, maxAgeMs: 7 * DAY }, new Date(now));
    assert.deepEqual(plan.keep.map((d) => [d.id.slice(0, 10), d.reasons]), [['2026-04-02', ['future']], ['2026-01-01', ['last']]]);
    assert.deepEqual(plan.delete.map((d) => [d.id.slice(0, 10), d.deleteReason]), [['2025-12-31', 'maxAge'], ['2025-12-30', 'maxAge']]);
  });

  it('explains every decision and partitions the input', () => {
    const plan = planRetention(backups, { keepLast: 2, keepWeekly: 2 }, new Date(now));
    assert.equal(plan.keep.length + plan.delete.length, backups.length);
    assert.deepEqual(plan.keep[0]?.reasons, ['last', 'weekly']);
    assert.ok(plan.delete.every((d) => d.deleteReason === 'unselected' && d.reasons.length === 0));
  });

  it('is deterministic regardless of input order', () => {
    const shuffled = [...backups].reverse();
    assert.deepEqual(planRetention(shuffled, { keepDaily: 5, keepMonthly: 3 }, new Date(now)), planRetention(backups, { keepDaily: 5, keepMonthly: 3 }, new Date(now)));
  });
});
