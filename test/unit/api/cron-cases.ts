// Schedules both the zod schema (test/unit/api/schedule.test.ts) and the API server's CEL
// (test/integration/crds.test.ts) must judge the same way.

export const VALID_SCHEDULES: readonly string[] = [
  '0 2 1 1 *', // yearly
  '0 3 1 1,4,7,10 *', // quarterly, as a list
  '0 3 1 */3 *', // quarterly, as a step
  '*/15 * * * *',
  '1-59/2 * * * *',
  '0,30 */2 1,15 1-6 1-5',
  '59 23 31 12 7',
  '00 00 01 01 0',
  '0 9 * jan-mar,oct-dec mon-fri',
  '0 9 * JAN-Dec/3 SUN',
  '0 0 * * fri-sun',
  '0 0 * * 0-7/2',
  '30 3 * * *',
];

/** Expression and what the message must say. */
export const INVALID_SCHEDULES: ReadonlyArray<readonly [string, RegExp]> = [
  ['61 * * * *', /minute \(1st field\) must be 0-59/],
  ['*/0 * * * *', /minute \(1st field\)/],
  ['*/60 * * * *', /minute \(1st field\).*step \/n \(n 1-59\)/],
  ['5/15 * * * *', /minute \(1st field\)/],
  ['0 24 * * *', /hour \(2nd field\) must be 0-23/],
  ['0 0-25 * * *', /hour \(2nd field\)/],
  ['0 0 0 * *', /day-of-month \(3rd field\) must be 1-31/],
  ['0 0 32 * *', /day-of-month \(3rd field\)/],
  ['0 0 L * *', /day-of-month \(3rd field\)/],
  ['0 0 * 13 *', /month \(4th field\) must be 1-12 or jan-dec/],
  ['0 0 * 0 *', /month \(4th field\)/],
  ['0 0 * foo *', /month \(4th field\)/],
  ['0 0 * * 8', /day-of-week \(5th field\) must be 0-7/],
  ['0 0 * * 5#2', /day-of-week \(5th field\)/],
  ['0 0 * * */8', /day-of-week \(5th field\)/],
  ['30-10 * * * *', /a range a-b must run upwards/],
  ['0 0 * * fri-mon', /a range a-b must run upwards/],
  ['0 0 * nov-feb *', /a range a-b must run upwards/],
  ['0 0 * * * *', /5-field/],
  ['@daily', /5-field/],
];
