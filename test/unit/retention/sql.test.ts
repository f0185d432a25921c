// SQL building: names quoted, values bound, expiry and filters as intended, keyset paging.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ColumnInfo, ResolvedRule, TableInfo } from '../../../src/engines/retention/catalog.ts';
import { parseRules } from '../../../src/engines/retention/rules.ts';
import { archiveSelectSql, buildPredicate, countSql, deleteBatchSql, deleteKeysSql, markBatchSql, rowAlias } from '../../../src/engines/retention/sql.ts';

function table(name: string, columns: Array<[string, string, string]>, pk = 'id'): TableInfo {
  const map = new Map<string, ColumnInfo>(columns.map(([n, t, c]) => [n, { name: n, typeName: t, category: c, notNull: false }]));
  return { schema: 'public', table: name, columns: map, primaryKey: map.get(pk), primaryKeyColumns: [pk] };
}

const reports = table('ai_geopolitical_report', [
  ['id', 'int4', 'N'], ['completed_at', 'timestamptz', 'D'], ['last_accessed_at', 'timestamptz', 'D'],
  ['is_archived', 'bool', 'B'], ['archive_reason', 'varchar', 'S'], ['status', 'varchar', 'S'], ['access_count', 'int4', 'N'],
]);

function resolve(rule: unknown, info: TableInfo = reports): ResolvedRule {
  const [parsed] = parseRules([rule]);
  assert.ok(parsed);
  const pk = info.primaryKey;
  assert.ok(pk);
  return { rule: parsed, table: info, primaryKey: pk };
}

const now = new Date('2026-06-01T00:00:00Z');

describe('retention SQL', () => {
  it('builds the expiry and filters with bound values only', () => {
    const r = resolve({
      name: 'idle', table: 'ai_geopolitical_report', olderThan: { column: 'completed_at', age: '90d' }, action: 'delete',
      filters: [
        { column: 'last_accessed_at', op: 'lt', ago: '30d', orNull: true },
        { column: 'status', op: 'in', values: ['completed', "x'); DROP TABLE post; --"] },
        { column: 'status', op: 'notIn', values: ['failed'] },
        { column: 'access_count', op: 'le', value: 3 },
        { column: 'is_archived', op: 'eq', value: true },
        { column: 'archive_reason', op: 'isNull' },
      ],
    });
    const { sql, params } = buildPredicate(r, now);
    assert.equal(
      sql,
      '"completed_at" < $1::timestamptz AND ("last_accessed_at" < $2::timestamptz OR "last_accessed_at" IS NULL) AND "status" = ANY($3) ' +
        'AND "status" <> ALL($4) AND "access_count" <= $5 AND "is_archived" = $6 AND "archive_reason" IS NULL',
    );
    assert.deepEqual(params.values, [
      '2026-03-03T00:00:00.000Z', '2026-05-02T00:00:00.000Z', ['completed', "x'); DROP TABLE post; --"], ['failed'], '3', 'true',
    ]);
  });

  it('uses "now" for expiresAtColumn and skips already-marked rows for mark', () => {
    const r = resolve({
      name: 'm', table: 'ai_geopolitical_report', expiresAtColumn: 'completed_at', action: 'mark',
      mark: { column: 'is_archived', set: [{ column: 'archive_reason', value: 'auto' }] },
    });
    const sql = markBatchSql(r, now, 500, '42');
    assert.match(sql.text, /"completed_at" < \$1::timestamptz AND "is_archived" IS DISTINCT FROM true AND "id" > \$2 ORDER BY "id" LIMIT \$3::int8 FOR UPDATE SKIP LOCKED/);
    assert.match(sql.text, /SET "is_archived" = true, "archive_reason" = \$4 WHERE "retention_row"\."id" = ANY\(ARRAY\(SELECT batch_key FROM batch\)\)/);
    assert.match(sql.text, /RETURNING "retention_row"\."id" AS k\) SELECT count\(\*\)::int8 AS n, \(SELECT k FROM changed ORDER BY k DESC LIMIT 1\)::text AS last FROM changed$/);
    assert.deepEqual(sql.values, ['2026-06-01T00:00:00.000Z', '42', 500, 'auto']);
  });

  it('deletes in keyset batches and has a first batch without a lower bound', () => {
    const r = resolve({ name: 'd', table: 'ai_geopolitical_report', olderThan: { column: 'completed_at', age: '1y' }, action: 'delete' });
    const first = deleteBatchSql(r, now, 1000, undefined);
    assert.doesNotMatch(first.text, /"id" >/);
    assert.match(first.text, /^WITH batch AS \(SELECT "id" AS batch_key FROM "public"\."ai_geopolitical_report" WHERE "completed_at" < \$1::timestamptz ORDER BY "id" LIMIT \$2::int8 FOR UPDATE SKIP LOCKED\), changed AS \(DELETE FROM "public"\."ai_geopolitical_report" AS "retention_row" WHERE "retention_row"\."id" = ANY\(ARRAY\(SELECT batch_key FROM batch\)\) RETURNING "retention_row"\."id" AS k\)/);
    const next = deleteBatchSql(r, now, 1000, '1000');
    assert.deepEqual(next.values, ['2025-06-01T00:00:00.000Z', '1000', 1000]);
    assert.match(countSql(r, now).text, /^SELECT count\(\*\)::int8 AS n FROM "public"\."ai_geopolitical_report" WHERE "completed_at" < \$1::timestamptz$/);
  });

  it('archives whole rows as JSON under an alias no column shadows, and deletes exact keys by key type', () => {
    const shadow = table('t', [['id', 'int8', 'N'], ['created_at', 'timestamptz', 'D'], ['retention_row', 'text', 'S']]);
    const r = resolve({ name: 'a', table: 't', olderThan: { column: 'created_at', age: '1d' }, action: 'archive' }, shadow);
    assert.equal(rowAlias(r), 'retention_row_');
    assert.match(archiveSelectSql(r, now, 10, undefined).text, /to_jsonb\("retention_row_"\)::text AS doc FROM "public"\."t" AS "retention_row_"/);
    assert.deepEqual(deleteKeysSql(r, ['1', '2']), { text: 'DELETE FROM "public"."t" WHERE "id" = ANY($1::int8[])', values: [['1', '2']] });
  });

  it('quotes names that need it (reserved words, capitals)', () => {
    const user = table('user', [['ID', 'int4', 'N'], ['select', 'timestamptz', 'D']], 'ID');
    const r = resolve({ name: 'u', table: 'user', olderThan: { column: 'select', age: '1d' }, action: 'delete' }, user);
    assert.match(countSql(r, now).text, /FROM "public"\."user" WHERE "select" < /);
    assert.match(deleteBatchSql(r, now, 1, undefined).text, /WHERE "select" < \$1::timestamptz ORDER BY "ID" LIMIT/);
  });
});
