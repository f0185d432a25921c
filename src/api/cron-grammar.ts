// The grammar of one cron field, written once and used twice: as the CRD's CEL rules (so the API server
// refuses `61 * * * *` with a message naming the field) and by the zod schema the operator validates
// with, so both accept exactly the same schedules. Regexes are RE2- and JavaScript-compatible (no
// backslashes: they sit inside CEL string literals). What this grammar accepts, croner runs.

interface CronField {
  name: string;
  ordinal: string;
  /** What the field's values may be, for messages. */
  values: string;
  value: string;
  /** A step /n may go from 1 to the field's largest value. */
  step: string;
  stepRange: string;
}

const MONTH_NAMES = 'jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec';
const DAY_NAMES = 'sun|mon|tue|wed|thu|fri|sat';

export const CRON_FIELDS: readonly CronField[] = [
  { name: 'minute', ordinal: '1st', values: '0-59', value: '[0-5]?[0-9]', step: '[1-9]|[1-5][0-9]', stepRange: '1-59' },
  { name: 'hour', ordinal: '2nd', values: '0-23', value: '[01]?[0-9]|2[0-3]', step: '[1-9]|1[0-9]|2[0-3]', stepRange: '1-23' },
  { name: 'day-of-month', ordinal: '3rd', values: '1-31', value: '0?[1-9]|[12][0-9]|3[01]', step: '[1-9]|[12][0-9]|3[01]', stepRange: '1-31' },
  { name: 'month', ordinal: '4th', values: '1-12 or jan-dec', value: `0?[1-9]|1[0-2]|(?i:${MONTH_NAMES})`, step: '[1-9]|1[0-2]', stepRange: '1-12' },
  { name: 'day-of-week', ordinal: '5th', values: '0-7 (0 and 7 are Sunday) or sun-sat', value: `0?[0-7]|(?i:${DAY_NAMES})`, step: '[1-7]', stepRange: '1-7' },
];

/** One field: items separated by commas; an item is `*`, `*\/n`, a value, `a-b` or `a-b/n`. */
export function cronFieldPattern(field: CronField): string {
  const item = `(?:[*](?:/(?:${field.step}))?|(?:${field.value})(?:-(?:${field.value})(?:/(?:${field.step}))?)?)`;
  return `${item}(?:,${item})*`;
}

function fieldMessage(field: CronField): string {
  return `${field.name} (${field.ordinal} field) must be ${field.values}: a value, a range a-b or *, each optionally with a step /n (n ${field.stepRange}), or a comma-separated list of these`;
}

export const CRON_FIELD_COUNT_PATTERN = '^[^ ]+( [^ ]+){4}$';

/** The part of a 5-field expression before field `index` (0-based). */
const before = (index: number): string => (index === 0 ? '^' : `^(?:[^ ]+ ){${index}}`);
const after = (index: number): string => (index === CRON_FIELDS.length - 1 ? '$' : ' ');

/** Regex that matches a 5-field expression whose field `index` is well formed. */
export function cronFieldCheck(index: number): string {
  return `${before(index)}(?:${cronFieldPattern(CRON_FIELDS[index] as CronField)})${after(index)}`;
}

// Ranges must run upwards (croner refuses 30-10 and fri-mon). A name's number is its position in the
// list of names; Sunday is 0 at the start of a range and 7 at its end, as croner reads it (sun-sat and
// fri-sun are both fine). Unknown words get some number: the field rules refuse them with a better message.
const DAYS = DAY_NAMES.replaceAll('|', '');
const MONTHS = MONTH_NAMES.replaceAll('|', '');
const RANGE_FIND = '[0-9A-Za-z]{1,3}-[0-9A-Za-z]{1,3}';

function celValue(text: string, sundayIs: number): string {
  const lower = `${text}.lowerAscii()`;
  return (
    `(${text}.matches('^[0-9]+$') ? int(${text}) : ${lower} == 'sun' ? ${sundayIs} : ` +
    `'${DAYS}'.indexOf(${lower}) >= 0 ? '${DAYS}'.indexOf(${lower}) / 3 : '${MONTHS}'.indexOf(${lower}) / 3 + 1)`
  );
}

export const CRON_RANGE_ORDER_MESSAGE = 'a range a-b must run upwards (10-30, mon-fri); write a wrap-around such as 22-2 or fri-mon as a list: 22-23,0-2 or fri-sat,sun-mon';

export interface CelRule {
  rule: string;
  message: string;
}

export const CRON_FIELD_COUNT_RULE: CelRule = {
  rule: `self.matches('${CRON_FIELD_COUNT_PATTERN}')`,
  message:
    'must be a standard 5-field cron expression "minute hour day-of-month month day-of-week" separated by single spaces; 6-field forms with seconds and @-shortcuts are not accepted',
};

/** One rule per field (so the message names the field), then the range order; all skip a malformed field count. */
export const CRON_RULES: readonly CelRule[] = [
  CRON_FIELD_COUNT_RULE,
  ...CRON_FIELDS.map((field, index) => ({
    rule: `!self.matches('${CRON_FIELD_COUNT_PATTERN}') || self.matches('${cronFieldCheck(index)}')`,
    message: fieldMessage(field),
  })),
  {
    rule: `self.findAll('${RANGE_FIND}').all(r, ${celValue("r.split('-')[0]", 0)} <= ${celValue("r.split('-')[1]", 7)})`,
    message: CRON_RANGE_ORDER_MESSAGE,
  },
];

const fieldRegexes = CRON_FIELDS.map((field) => new RegExp(`^(?:${cronFieldPattern(field)})$`));

function valueOf(text: string, sundayIs: number): number {
  if (/^[0-9]+$/.test(text)) return Number(text);
  const lower = text.toLowerCase();
  if (lower === 'sun') return sundayIs;
  const day = DAYS.indexOf(lower);
  return day >= 0 ? Math.trunc(day / 3) : Math.trunc(MONTHS.indexOf(lower) / 3) + 1;
}

/** The same checks as CRON_RULES, in code: the first problem, or undefined. Expects 5 space-separated fields. */
export function cronFieldProblem(fields: readonly string[]): string | undefined {
  for (const [index, field] of CRON_FIELDS.entries()) {
    if (!(fieldRegexes[index] as RegExp).test(fields[index] ?? '')) return fieldMessage(field);
  }
  for (const range of fields.join(' ').match(new RegExp(RANGE_FIND, 'g')) ?? []) {
    const [low = '', high = ''] = range.split('-');
    if (valueOf(low, 0) > valueOf(high, 7)) return CRON_RANGE_ORDER_MESSAGE;
  }
  return undefined;
}
