// The retention rule language: which rows of which table expire and what happens to them. Structured
// only (column, operator, value), never SQL text; the schema is exported so the RetentionPolicy CRD is
// generated from the same definition. `parseRules` turns untrusted input into frozen, checked rules.
import * as z from 'zod';
import { OperatorError } from '../../errors.ts';
import { RetentionReasons } from './reasons.ts';

/** A plain SQL identifier: what PostgreSQL accepts unquoted, case kept. Anything else is refused. */
export const IDENTIFIER_PATTERN = '^[A-Za-z_][A-Za-z0-9_]{0,62}$';
const identifierRe = new RegExp(IDENTIFIER_PATTERN);

/**
 * Retention durations: a whole number and one unit of h, d, w, y, e.g. "12h", "90d", "26w", "3y".
 * "y" is 365 days and "w" 7 days (fixed lengths, no calendar arithmetic). At least 1h, at most 100y.
 */
export const RETENTION_DURATION_PATTERN = '^[0-9]{1,6}(h|d|w|y)$';
const durationRe = /^([0-9]{1,6})(h|d|w|y)$/;
const UNIT_MS = { h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 } as const;
const MAX_DURATION_MS = 100 * UNIT_MS.y;
const DURATION_HELP = 'write a whole number and one unit of h, d, w or y (365 days), for example 12h, 90d, 26w, 3y';

export function parseRetentionDuration(text: string): number {
  const match = durationRe.exec(text);
  if (!match) {
    throw new OperatorError(RetentionReasons.RetentionDurationInvalid, `"${clip(text)}" is not a retention duration: ${DURATION_HELP}`, {
      terminal: true,
    });
  }
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  if (ms < UNIT_MS.h || ms > MAX_DURATION_MS) {
    throw new OperatorError(RetentionReasons.RetentionDurationInvalid, `retention duration "${text}" must be between 1h and 100y`, { terminal: true });
  }
  return ms;
}

const identifier = (description: string) =>
  z
    .string()
    .max(63)
    .regex(identifierRe, { message: 'must be a plain SQL identifier (letters, digits and _, not starting with a digit, at most 63 characters)' })
    .describe(description);

const duration = (description: string) =>
  z.string().max(12).regex(new RegExp(RETENTION_DURATION_PATTERN), { message: `is not a retention duration: ${DURATION_HELP}` }).describe(description);

const scalar = z.union([z.string().max(1024), z.number(), z.boolean()]);

export const FILTER_OPERATORS = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'isNull', 'isNotNull', 'in', 'notIn'] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number];

export const retentionFilterSchema = z
  .object({
    column: identifier('Column the condition is on.'),
    op: z.enum(FILTER_OPERATORS).describe('Comparison: eq, ne, lt, le, gt, ge (with value or ago), in and notIn (with values), isNull, isNotNull.'),
    value: scalar.optional().describe('Value compared with (bound as a parameter, converted to the column type by PostgreSQL).'),
    values: z.array(z.union([z.string().max(1024), z.number()])).min(1).max(1000).optional().describe('Values for op "in" or "notIn".'),
    ago: duration('For time columns: compare with "now minus this duration" instead of a fixed value (e.g. lt + 90d = older than 90 days).').optional(),
    orNull: z.boolean().optional().describe('Also match rows where the column is NULL (SQL comparisons never match NULL).'),
  })
  .strict()
  .describe('One condition on a column; all filters of a rule must hold (AND).');

export const retentionMarkSchema = z
  .object({
    column: identifier('Boolean column set to true on expired rows (e.g. is_archived); rows already true are skipped.'),
    set: z
      .array(z.object({ column: identifier('Column to set.'), value: scalar.describe('Value to store.') }).strict())
      .max(16)
      .optional()
      .describe('Other columns set at the same time, e.g. archive_reason.'),
  })
  .strict()
  .describe('What "mark" writes.');

export const RETENTION_ACTIONS = ['delete', 'archive', 'mark'] as const;
export type RetentionAction = (typeof RETENTION_ACTIONS)[number];

export const retentionRuleSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(63)
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { message: 'must be lowercase letters, digits and -' })
      .describe('Unique name of the rule, used in status, metrics and archive keys.'),
    schema: identifier('Schema of the table (default public).').optional(),
    table: identifier('Table the rule applies to.'),
    olderThan: z
      .object({ column: identifier('Timestamp column the age is measured on.'), age: duration('Rows whose column is older than this expire.') })
      .strict()
      .optional()
      .describe('Rows expire when this timestamp column is older than the age. Exactly one of olderThan and expiresAtColumn.'),
    expiresAtColumn: identifier('Timestamp column holding an expiry time: rows expire once it is in the past.').optional(),
    filters: z.array(retentionFilterSchema).max(16).optional().describe('Further conditions, all of which must hold.'),
    action: z.enum(RETENTION_ACTIONS).describe('delete; archive (export to S3, age-encrypted, verified, then delete); mark (set a boolean column).'),
    mark: retentionMarkSchema.optional(),
  })
  .strict()
  .superRefine((rule, ctx) => {
    if ((rule.olderThan === undefined) === (rule.expiresAtColumn === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['olderThan'], message: 'give exactly one of olderThan and expiresAtColumn' });
    }
    if (rule.action === 'mark' && rule.mark === undefined) {
      ctx.addIssue({ code: 'custom', path: ['mark'], message: 'action "mark" needs mark.column' });
    }
    if (rule.action !== 'mark' && rule.mark !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['mark'], message: `mark is only used with action "mark", not "${rule.action}"` });
    }
    rule.filters?.forEach((filter, index) => {
      const problem = filterProblem(filter);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['filters', index], message: problem });
    });
  })
  .describe('One retention rule: which rows of one table expire and what happens to them.');

export const retentionRulesSchema = z
  .array(retentionRuleSchema)
  .max(64)
  .superRefine((rules, ctx) => {
    const seen = new Set<string>();
    rules.forEach((rule, index) => {
      if (seen.has(rule.name)) ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `rule name "${rule.name}" is used twice` });
      seen.add(rule.name);
    });
  })
  .describe('Retention rules, applied in order.');

export type RetentionFilter = z.infer<typeof retentionFilterSchema>;
export type RetentionRule = z.infer<typeof retentionRuleSchema>;

function filterProblem(filter: RetentionFilter): string | undefined {
  const has = { value: filter.value !== undefined, values: filter.values !== undefined, ago: filter.ago !== undefined };
  switch (filter.op) {
    case 'isNull':
    case 'isNotNull':
      if (has.value || has.values || has.ago) return `op "${filter.op}" takes no value`;
      if (filter.orNull !== undefined) return `op "${filter.op}" takes no orNull`;
      return undefined;
    case 'in':
    case 'notIn':
      if (!has.values || has.value || has.ago) return `op "${filter.op}" takes values (a list) and nothing else`;
      return undefined;
    case 'eq':
    case 'ne':
      if (has.ago) return `op "${filter.op}" cannot use ago: compare times with lt, le, gt or ge`;
      if (!has.value || has.values) return `op "${filter.op}" takes exactly one value (use isNull for NULL)`;
      return undefined;
    default:
      if (has.values || has.value === has.ago) return `op "${filter.op}" takes exactly one of value and ago`;
      if (has.value && typeof filter.value === 'boolean') return `op "${filter.op}" cannot compare with a boolean`;
      return undefined;
  }
}

/**
 * Checks untrusted rules (from a resource, a file or the CLI): schema, identifiers, durations.
 * Throws one OperatorError (terminal) naming the first problem; returns frozen rules.
 */
export function parseRules(input: unknown): readonly RetentionRule[] {
  // Identifier and duration problems get their own reasons, so check those fields first.
  scanForBadIdentifiersAndDurations(input);
  const result = retentionRulesSchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue ? formatPath(input, issue.path) : 'rules';
    throw new OperatorError(RetentionReasons.RetentionRuleInvalid, `retention rule ${where}: ${issue?.message ?? 'invalid'}`, {
      terminal: true,
      details: { issues: result.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })) },
    });
  }
  for (const rule of result.data) {
    if (rule.olderThan) parseRetentionDuration(rule.olderThan.age);
    for (const filter of rule.filters ?? []) if (filter.ago !== undefined) parseRetentionDuration(filter.ago);
  }
  return deepFreeze(result.data);
}

const IDENTIFIER_KEYS = new Set(['schema', 'table', 'column', 'expiresAtColumn']);
const DURATION_KEYS = new Set(['age', 'ago']);

function scanForBadIdentifiersAndDurations(input: unknown): void {
  if (!Array.isArray(input)) return;
  input.forEach((rule: unknown, index) => {
    const label = ruleLabel(rule, index);
    walk(rule, (key, value) => {
      if (typeof value !== 'string') return;
      if (IDENTIFIER_KEYS.has(key) && !identifierRe.test(value)) {
        throw new OperatorError(
          RetentionReasons.RetentionIdentifierInvalid,
          `retention rule ${label}: ${key} "${clip(value)}" is not a plain SQL identifier (letters, digits and _ only); refused`,
          { terminal: true },
        );
      }
      if (DURATION_KEYS.has(key)) {
        try {
          parseRetentionDuration(value);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          throw new OperatorError(RetentionReasons.RetentionDurationInvalid, `retention rule ${label}: ${key} ${message}`, { terminal: true });
        }
      }
    });
  });
}

function walk(node: unknown, visit: (key: string, value: unknown) => void): void {
  if (Array.isArray(node)) {
    for (const item of node) walk(item, visit);
  } else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      visit(key, value);
      if (key !== 'value' && key !== 'values') walk(value, visit);
    }
  }
}

function ruleLabel(rule: unknown, index: number): string {
  const name = rule !== null && typeof rule === 'object' && 'name' in rule && typeof rule.name === 'string' ? rule.name : undefined;
  return name !== undefined && /^[a-z0-9-]{1,63}$/.test(name) ? `"${name}"` : `#${index + 1}`;
}

function formatPath(input: unknown, path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'list';
  const [first, ...rest] = path;
  const label = typeof first === 'number' && Array.isArray(input) ? ruleLabel(input[first], first) : String(first);
  return rest.length === 0 ? label : `${label} field ${rest.map(String).join('.')}`;
}

function clip(text: string): string {
  const printable = text.replace(/[\u0000-\u001f\u007f]/g, '?');
  return printable.length > 80 ? `${printable.slice(0, 77)}...` : printable;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
