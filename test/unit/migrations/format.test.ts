// The migration file format: steps, directives, statement counting, index names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { concurrentIndexName, countStatements, parseDirectiveDuration, parseMigrationFile } from '../../../src/engines/migrations/format.ts';
import { parseQualifiedName, indexTableName } from '../../../src/engines/migrations/invalid-index.ts';

test('a file without directives is one transactional step, sent whole', () => {
  const text = "-- comment\nCREATE TABLE a (id int);\nCREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;\n";
  const parsed = parseMigrationFile(text);
  assert.equal(parsed.steps.length, 1);
  assert.equal(parsed.steps[0]!.transactional, true);
  assert.match(parsed.steps[0]!.sql, /CREATE TABLE a[\s\S]*SELECT 1; \$\$;$/);
  assert.equal(parsed.lockTimeoutMs, undefined);
});

test('step directives split the file; consecutive transactional steps stay separate; lines are tracked', () => {
  const text = [
    '-- lokdarpan:lock-timeout 2s',
    '-- lokdarpan:statement-timeout 30min',
    '-- lokdarpan:step transaction',
    'CREATE TABLE a (id int);',
    '-- lokdarpan:step transaction',
    '',
    'CREATE TABLE b (id int);',
    '-- lokdarpan:step no-transaction',
    'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "Odd""Name" ON public.a (id);',
  ].join('\n');
  const parsed = parseMigrationFile(text);
  assert.equal(parsed.lockTimeoutMs, 2000);
  assert.equal(parsed.statementTimeoutMs, 30 * 60_000);
  assert.deepEqual(parsed.steps.map((s) => [s.transactional, s.line]), [[true, 4], [true, 7], [false, 9]]);
  assert.equal(parsed.steps[2]!.concurrentIndex, '"Odd""Name"');
});

test('SQL before the first step directive is an implicit transactional step', () => {
  const parsed = parseMigrationFile('CREATE TABLE a (id int);\n-- lokdarpan:step no-transaction\nVACUUM a;\n');
  assert.deepEqual(parsed.steps.map((s) => s.transactional), [true, false]);
  assert.equal(parsed.steps[1]!.concurrentIndex, undefined);
});

test('malformed files are refused with a line number', () => {
  assert.throws(() => parseMigrationFile(''), /no SQL statement/);
  assert.throws(() => parseMigrationFile('-- lokdarpan:step maybe\nSELECT 1;'), /line 1: .*"transaction" or "no-transaction"/);
  assert.throws(() => parseMigrationFile('-- lokdarpan:step no-transaction\nSELECT 1; SELECT 2;'), /line 2: a no-transaction step holds exactly one statement, found 2/);
  assert.throws(() => parseMigrationFile('-- lokdarpan:step transaction\n-- only a comment\n-- lokdarpan:step transaction\nSELECT 1;'), /line 2: step has no SQL/);
  assert.throws(() => parseMigrationFile('SELECT 1;\n-- lokdarpan:lock-timeout 5s\n'), /line 2: .*must come before/);
  assert.throws(() => parseMigrationFile('-- lokdarpan:lock-timeout soon\nSELECT 1;'), /line 1: "soon" is not a duration/);
  assert.throws(() => parseMigrationFile('-- lokdarpan:retry 3\nSELECT 1;'), /unknown directive/);
});

test('statement counting ignores semicolons in quotes, dollar quotes and comments', () => {
  assert.equal(countStatements("SELECT ';'; -- ; \n /* ; */ SELECT $a$ ; $a$"), 2);
  assert.equal(countStatements('SELECT "a;b" FROM t;'), 1);
  assert.equal(countStatements(';;'), 0);
});

test('durations accept ms, s, m/min, h', () => {
  assert.equal(parseDirectiveDuration('500ms'), 500);
  assert.equal(parseDirectiveDuration('5s'), 5000);
  assert.equal(parseDirectiveDuration('15m'), 900_000);
  assert.equal(parseDirectiveDuration('2 h'), 7_200_000);
});

test('index and table names are read from CREATE INDEX CONCURRENTLY', () => {
  assert.equal(concurrentIndexName('CREATE INDEX CONCURRENTLY idx ON t (a)'), 'idx');
  assert.equal(concurrentIndexName('/* x */ create unique index concurrently if not exists s.idx on s.t using btree (a)'), 's.idx');
  assert.equal(concurrentIndexName('CREATE INDEX idx ON t (a)'), undefined);
  assert.deepEqual(parseQualifiedName('S.Idx'), { schema: 's', name: 'idx' });
  assert.deepEqual(parseQualifiedName('"My ""Idx"""'), { name: 'My "Idx"' });
  assert.equal(indexTableName('CREATE INDEX CONCURRENTLY i ON ONLY "Post" (a)'), '"Post"');
});
