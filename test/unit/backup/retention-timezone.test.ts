// GFS buckets follow the policy's time zone: calendar days, ISO weeks and months are those of the
// zone the schedule runs in, across DST changes and year ends.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dayKey, isoWeekKey, monthKey, planRetention, type PlannedBackup, type RetentionRules } from '../../../src/engines/backup/retention.ts';
import { isOperatorError } from '../../../src/errors.ts';

const at = (...times: string[]): PlannedBackup[] => times.map((t) => ({ id: t, time: new Date(t) }));
const kept = (backups: PlannedBackup[], rules: RetentionRules, now: string, timeZone?: string): string[] =>
  planRetention(backups, rules, new Date(now), timeZone === undefined ? {} : { timeZone }).keep.map((d) => d.id);

describe('calendar keys in a time zone', () => {
  it('days, weeks and months of the zone, not of UTC', () => {
    const cases: Array<[string, string, string, string, string]> = [
      // instant, zone, day, ISO week, month
      ['2026-03-01T20:00:00Z', 'Asia/Kolkata', '2026-03-02', '2026-W10', '2026-03'], // Monday 01:30 IST; Sunday in UTC
      ['2026-03-01T20:00:00Z', 'UTC', '2026-03-01', '2026-W09', '2026-03'],
      ['2026-12-31T11:30:00Z', 'Pacific/Auckland', '2027-01-01', '2026-W53', '2027-01'], // New Year there, still 2026 in UTC
      ['2027-01-04T10:59:00Z', 'Pacific/Auckland', '2027-01-04', '2027-W01', '2027-01'], // 23:59 Monday NZDT
      ['2026-01-01T04:30:00Z', 'America/New_York', '2025-12-31', '2026-W01', '2025-12'], // 23:30 on New Year's Eve
      ['2026-03-09T03:30:00Z', 'America/New_York', '2026-03-08', '2026-W10', '2026-03'], // 23:30 EDT on the spring-forward day
      ['2026-11-01T06:30:00Z', 'America/New_York', '2026-11-01', '2026-W44', '2026-11'], // the second 01:30 (EST) of the fall-back day
    ];
    for (const [instant, zone, day, week, month] of cases) {
      const d = new Date(instant);
      assert.deepEqual([dayKey(d, zone), isoWeekKey(d, zone), monthKey(d, zone)], [day, week, month], `${instant} in ${zone}`);
    }
  });
});

describe('planRetention with a time zone', () => {
  it('keepDaily counts the zone\'s days: two backups of one IST day are one day', () => {
    // 01:30 IST and 07:30 IST on 31 March, 01:30 IST on 30 March.
    const list = at('2026-03-29T20:00:00Z', '2026-03-30T20:00:00Z', '2026-03-31T02:00:00Z');
    const now = '2026-03-31T12:00:00Z';
    assert.deepEqual(kept(list, { keepDaily: 2 }, now, 'Asia/Kolkata'), ['2026-03-31T02:00:00Z', '2026-03-29T20:00:00Z']);
    assert.deepEqual(kept(list, { keepDaily: 2 }, now), ['2026-03-31T02:00:00Z', '2026-03-30T20:00:00Z'], 'UTC days differ');
  });

  it('across spring forward: a 00:30 and a 23:30 backup of the 23-hour day are one day', () => {
    // New York, 8 March 2026: 00:30 EST (05:30Z) and 23:30 EDT (03:30Z next UTC day); 9 March 00:30 EDT.
    const list = at('2026-03-08T05:30:00Z', '2026-03-09T03:30:00Z', '2026-03-09T04:30:00Z');
    assert.deepEqual(kept(list, { keepDaily: 2 }, '2026-03-10T00:00:00Z', 'America/New_York'), ['2026-03-09T04:30:00Z', '2026-03-09T03:30:00Z']);
    assert.deepEqual(kept(list, { keepDaily: 3 }, '2026-03-10T00:00:00Z', 'America/New_York').length, 2, 'only two New York days have backups');
  });

  it('across fall back: both 01:30s of the 25-hour day are one day', () => {
    const list = at('2026-10-31T05:30:00Z', '2026-11-01T05:30:00Z', '2026-11-01T06:30:00Z');
    assert.deepEqual(kept(list, { keepDaily: 2 }, '2026-11-02T00:00:00Z', 'America/New_York'), ['2026-11-01T06:30:00Z', '2026-10-31T05:30:00Z']);
  });

  it('keepMonthly and keepWeekly across the year end in Auckland', () => {
    // 23:30 NZDT 31 Dec 2026 and 00:30 NZDT 1 Jan 2027: two months there, one in UTC.
    const list = at('2026-11-30T10:00:00Z', '2026-12-31T10:30:00Z', '2026-12-31T11:30:00Z');
    const now = '2027-01-02T00:00:00Z';
    assert.deepEqual(kept(list, { keepMonthly: 2 }, now, 'Pacific/Auckland'), ['2026-12-31T11:30:00Z', '2026-12-31T10:30:00Z']);
    assert.deepEqual(kept(list, { keepMonthly: 2 }, now), ['2026-12-31T11:30:00Z', '2026-11-30T10:00:00Z']);
    // Thursday 31 Dec and Friday 1 Jan are in ISO week 2026-W53 there: one weekly bucket.
    assert.deepEqual(kept(list, { keepWeekly: 2 }, now, 'Pacific/Auckland'), ['2026-12-31T11:30:00Z', '2026-11-30T10:00:00Z']);
  });

  it('rejects an unknown zone with InvalidRequest', () => {
    assert.throws(
      () => planRetention(at('2026-03-01T00:00:00Z'), { keepLast: 1 }, new Date('2026-03-02T00:00:00Z'), { timeZone: 'Mars/Olympus' }),
      (e: unknown) => isOperatorError(e) && e.reason === 'InvalidRequest' && e.message.includes('Mars/Olympus'),
    );
  });
});
