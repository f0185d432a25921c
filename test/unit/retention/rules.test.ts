// Rule validation and the duration grammar: bad input is refused with the right reason and a readable message.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OperatorError } from '../../../src/errors.ts';
import { defaultRetentionRules, parseRetentionDuration, parseRules, RetentionReasons, retentionRulesSchema } from '../../../src/engines/retention/index.ts';

const base = { name: 'r1', table: 'ai_model_execution', olderThan: { column: 'created_at', age: '180d' }, action: 'delete' };

function refused(input: unknown, reason: string, message?: RegExp): void {
  assert.throws(
    () => parseRules(input),
    (error: unknown) => {
      assert.ok(error instanceof OperatorError, `expected an OperatorError, got ${String(error)}`);
      assert.equal(error.reason, reason, error.message);
      assert.equal(error.terminal, true);
      if (message) assert.match(error.message, message);
      assert.ok(!error.message.includes('\n'), 'message is one line');
      return true;
    },
  );
}

describe('retention durations', () => {
  it('accepts h, d, w, y with fixed lengths', () => {
    assert.equal(parseRetentionDuration('12h'), 12 * 3_600_000);
    assert.equal(parseRetentionDuration('90d'), 90 * 86_400_000);
    assert.equal(parseRetentionDuration('2w'), 14 * 86_400_000);
    assert.equal(parseRetentionDuration('3y'), 1095 * 86_400_000);
    assert.equal(parseRetentionDuration('1y'), parseRetentionDuration('365d'));
  });
  for (const bad of ['', '90', 'd', '90 d', ' 90d', '90d ', '-1d', '1.5d', '90D', '90days', '1y2d', '30m', '500ms', '0h', '0d', '101y', '1e3d', '９０d', '90d;DROP']) {
    it(`refuses ${JSON.stringify(bad)}`, () => {
      assert.throws(() => parseRetentionDuration(bad), (e: unknown) => e instanceof OperatorError && e.reason === RetentionReasons.RetentionDurationInvalid);
    });
  }
  it('refuses a bad duration inside a rule with the rule name and the grammar', () => {
    refused([{ ...base, olderThan: { column: 'created_at', age: '6 months' } }], RetentionReasons.RetentionDurationInvalid, /"r1".*6 months.*whole number/);
    refused([{ ...base, filters: [{ column: 'x', op: 'lt', ago: '0d' }] }], RetentionReasons.RetentionDurationInvalid, /between 1h and 100y/);
  });
});

describe('retention rules', () => {
  it('accepts a full rule and freezes it', () => {
    const rules = parseRules([
      {
        ...base,
        filters: [
          { column: 'success_status', op: 'ne', value: 'error' },
          { column: 'provider', op: 'in', values: ['openai', 'google'] },
          { column: 'completed_at', op: 'lt', ago: '30d', orNull: true },
          { column: 'error_code', op: 'isNull' },
        ],
      },
    ]);
    assert.equal(rules.length, 1);
    assert.ok(Object.isFrozen(rules) && Object.isFrozen(rules[0]));
  });
  it('accepts the default rules', () => {
    assert.equal(parseRules(defaultRetentionRules()).length, 13);
    assert.ok(parseRules(defaultRetentionRules({ archiveReports: true })).some((r) => r.action === 'archive'));
    assert.ok(!defaultRetentionRules().some((r) => r.table === 'post'));
  });
  it('refuses injection attempts in names before anything else', () => {
    for (const table of ['ai_model_execution; DROP TABLE post', 'x"y', 'post--', 'public.post', 'a b', '1abc', '', 'ä']) {
      refused([{ ...base, table }], RetentionReasons.RetentionIdentifierInvalid, /not a plain SQL identifier/);
    }
    refused([{ ...base, olderThan: { column: 'created_at") OR true --', age: '1d' } }], RetentionReasons.RetentionIdentifierInvalid);
    refused([{ ...base, filters: [{ column: 'a;b', op: 'isNull' }] }], RetentionReasons.RetentionIdentifierInvalid);
    refused([{ ...base, schema: 'pg_catalog"."pg_authid' }], RetentionReasons.RetentionIdentifierInvalid);
  });
  it('refuses structural mistakes with RetentionRuleInvalid', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ ...base, expiresAtColumn: 'expires_at' }, /exactly one of olderThan and expiresAtColumn/],
      [{ name: 'r1', table: 't', action: 'delete' }, /exactly one of olderThan and expiresAtColumn/],
      [{ ...base, action: 'truncate' }, /action/],
      [{ ...base, action: 'mark' }, /needs mark.column/],
      [{ ...base, mark: { column: 'is_archived' } }, /only used with action "mark"/],
      [{ ...base, sql: 'DELETE FROM post' }, /sql|Unrecognized|unrecognized/],
      [{ ...base, filters: [{ column: 'a', op: 'like', value: 'x' }] }, /op/],
      [{ ...base, filters: [{ column: 'a', op: 'eq' }] }, /exactly one value/],
      [{ ...base, filters: [{ column: 'a', op: 'eq', value: 'x', values: ['y'] }] }, /exactly one value/],
      [{ ...base, filters: [{ column: 'a', op: 'in', value: 'x' }] }, /takes values/],
      [{ ...base, filters: [{ column: 'a', op: 'in', values: [] }] }, /values/],
      [{ ...base, filters: [{ column: 'a', op: 'isNull', value: 1 }] }, /takes no value/],
      [{ ...base, filters: [{ column: 'a', op: 'lt', value: 1, ago: '1d' }] }, /exactly one of value and ago/],
      [{ ...base, filters: [{ column: 'a', op: 'eq', ago: '1d' }] }, /cannot use ago/],
      [{ ...base, filters: [{ column: 'a', op: 'gt', value: true }] }, /boolean/],
      [{ ...base, name: 'Bad_Name' }, /lowercase/],
    ];
    for (const [rule, message] of cases) refused([rule], RetentionReasons.RetentionRuleInvalid, message);
    refused([base, base], RetentionReasons.RetentionRuleInvalid, /used twice/);
    refused({ not: 'a list' }, RetentionReasons.RetentionRuleInvalid);
  });
  it('names the rule and the field in the message', () => {
    refused([base, { ...base, name: 'second', action: 'mark' }], RetentionReasons.RetentionRuleInvalid, /"second" field mark: /);
  });
  it('exports a schema zod can turn into JSON Schema (for the CRD)', async () => {
    const { z } = await import('zod');
    const json = JSON.stringify(z.toJSONSchema(retentionRulesSchema, { target: 'openapi-3.0', io: 'input' }));
    assert.match(json, /olderThan/);
    assert.match(json, /\^\[A-Za-z_\]/);
  });
});
