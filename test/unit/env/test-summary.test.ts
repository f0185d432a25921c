// The test command's total: the summary reporter, the parser of its files, and the sum over passes,
// including one real `node --test` run so a change in Node's summary event is noticed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestEvent } from 'node:test/reporters';
import summaryReporter, { addUp, errorText, formatFailures, formatPass, formatTotal, parseFailures, parseSummary, type PassCounts } from '../../env/test-summary.ts';

/** Without NODE_TEST_CONTEXT, which makes a nested `node --test` skip running files. */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['NODE_TEST_CONTEXT'];
  return env;
}

const reporterPath = new URL('../../env/test-summary.ts', import.meta.url).pathname;

function counts(passed: number, failed: number, cancelled = 0, skipped = 0, todo = 0): PassCounts {
  return { passed, failed, cancelled, skipped, todo };
}

function summaryEvent(file: string | undefined, c: Record<string, number>): TestEvent {
  return {
    type: 'test:summary',
    data: { counts: c, duration_ms: 1, file, success: c['failed'] === 0 },
  } as unknown as TestEvent;
}

async function collect(events: TestEvent[]): Promise<string> {
  async function* source(): AsyncGenerator<TestEvent> {
    yield* events;
  }
  let out = '';
  for await (const chunk of summaryReporter(source())) out += chunk;
  return out;
}

test('the reporter writes only the summary that covers all files', async () => {
  const all = { tests: 7, suites: 0, topLevel: 6, passed: 3, failed: 1, cancelled: 2, skipped: 1, todo: 0 };
  const out = await collect([
    summaryEvent('/x/a.test.ts', { ...all, passed: 1 }),
    { type: 'test:pass', data: {} } as unknown as TestEvent,
    summaryEvent(undefined, all),
  ]);
  assert.equal(out.split('\n').filter(Boolean).length, 1);
  assert.deepEqual(parseSummary(out), counts(3, 1, 2, 1, 0));
});

test('a summary event without usable counts is written as null and parses as missing', async () => {
  const out = await collect([summaryEvent(undefined, { passed: 1, cancelled: 0, skipped: 0, todo: 0 })]);
  assert.match(out, /"summary":null/);
  assert.equal(parseSummary(out), undefined);
});

test('parseSummary takes the last well-formed summary line and ignores the rest', () => {
  const text = [
    JSON.stringify({ summary: counts(1, 0) }),
    'ℹ pass 99',
    JSON.stringify({ summary: counts(5, 2, 1) }),
    '{"summary": {"passed": -1, "failed": 0, "cancelled": 0, "skipped": 0, "todo": 0}}',
    '{not json',
    '',
  ].join('\n');
  assert.deepEqual(parseSummary(text), counts(5, 2, 1));
  assert.equal(parseSummary(''), undefined);
  assert.equal(parseSummary('ℹ pass 3\nℹ fail 0\n'), undefined);
  assert.equal(parseSummary('{"summary":{"passed":1.5,"failed":0,"cancelled":0,"skipped":0,"todo":0}}'), undefined);
});

test('failure lines: a failed test is written, a suite failed only by its tests is not, a failed hook is', async () => {
  const fail = (name: string, error: unknown, type?: string): TestEvent =>
    ({ type: 'test:fail', data: { name, file: '/x/a.test.ts', nesting: 0, testNumber: 1, details: { duration_ms: 1, error, type } } }) as unknown as TestEvent;
  const wrapped = (cause: Error, failureType: string): Error => Object.assign(new Error('wrapper', { cause }), { failureType });
  const out = await collect([
    fail('leaf', wrapped(new Error('the real reason'), 'testCodeFailure')),
    fail('suite', wrapped(new Error('1 subtest failed'), 'subtestsFailed'), 'suite'),
    fail('suite with a failed before', wrapped(new Error('before: no server'), 'hookFailed'), 'suite'),
  ]);
  assert.deepEqual(parseFailures(out).map((f) => [f.name, f.message]), [['leaf', 'the real reason'], ['suite with a failed before', 'before: no server']]);
});

test('errorText keeps the first lines, cut to a bounded length; formatFailures lists a bounded number', () => {
  assert.equal(errorText(new Error('a\nb')), 'a\nb');
  assert.equal(errorText(new TypeError('x')), 'TypeError: x');
  assert.equal(errorText(Array.from({ length: 40 }, (_, i) => `line ${i}`).join('\n')).split('\n').length, 12);
  assert.ok(errorText('y'.repeat(5000)).length <= 1203);
  const many = Array.from({ length: 20 }, (_, i) => ({ name: `t${i}`, file: undefined, message: 'm' }));
  const lines = formatFailures('main', many);
  assert.equal(lines.filter((l) => l.startsWith('  ✖')).length, 12);
  assert.match(lines.at(-1) ?? '', /and 8 more/);
  assert.deepEqual(formatFailures('main', []), []);
});

test('addUp sums both passes, counts cancelled as failed and a missing pass as one failure', () => {
  assert.deepEqual(addUp([{ label: 'a', counts: counts(10, 0) }, { label: 'b', counts: counts(4, 0) }]), { passed: 14, failed: 0 });
  assert.deepEqual(addUp([{ label: 'a', counts: counts(10, 1, 2) }, { label: 'b', counts: counts(4, 0) }]), { passed: 14, failed: 3 });
  assert.deepEqual(addUp([{ label: 'a', counts: counts(10, 0) }, { label: 'b', counts: undefined }]), { passed: 10, failed: 1 });
  assert.deepEqual(addUp([]), { passed: 0, failed: 0 });
});

test('formatTotal is the line CI reads', () => {
  assert.equal(formatTotal({ passed: 14, failed: 3 }), '14 passed, 3 failed');
  assert.match(formatPass({ label: 'PostgreSQL 18', counts: counts(4, 1, 2, 3) }), /^PostgreSQL 18: 4 passed, 3 failed \(2 cancelled, counted as failed\), 3 skipped, 0 todo$/);
  assert.match(formatPass({ label: 'main', counts: undefined }), /no summary.*1 failed/);
});

test('a real node --test run with the reporter, then the command over two passes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lokdarpan-summary-'));
  try {
    writeFileSync(
      join(dir, 'a.test.mjs'),
      [
        "import test from 'node:test';",
        "test('ok', () => {});",
        "test('fails', () => { throw new Error('no: first line\\nsecond line'); });",
        "test('asserts', async () => { (await import('node:assert/strict')).equal(1, 2, 'one is not two'); });",
        "test('times out', { timeout: 20 }, () => new Promise((r) => setTimeout(r, 2000)));",
        "test.skip('skipped', () => {});",
        "console.log('ℹ pass 99');",
      ].join('\n'),
    );
    writeFileSync(join(dir, 'b.test.mjs'), "import test from 'node:test';\ntest('ok', () => {});\n");
    const summary = join(dir, 'pass1.json');
    const run = spawnSync(
      process.execPath,
      ['--test', '--test-reporter=tap', '--test-reporter-destination=stdout', `--test-reporter=${reporterPath}`,
        `--test-reporter-destination=${summary}`, 'a.test.mjs', 'b.test.mjs'],
      { cwd: dir, encoding: 'utf8', timeout: 30_000, env: childEnv() },
    );
    assert.equal(run.status, 1, run.stderr);
    assert.deepEqual(parseSummary(readFileSync(summary, 'utf8')), counts(2, 2, 1, 1, 0));
    const failures = parseFailures(readFileSync(summary, 'utf8'));
    assert.deepEqual(failures.map((f) => f.name), ['fails', 'asserts', 'times out']);
    assert.equal(failures[0]?.message, 'no: first line\nsecond line');
    assert.match(failures[1]?.message ?? '', /^AssertionError: one is not two/);
    assert.match(failures[2]?.message ?? '', /timed out/i);
    assert.ok(failures.every((f) => f.file?.endsWith('a.test.mjs')), JSON.stringify(failures));

    const total = spawnSync(process.execPath, [reporterPath, `${summary}=main`, `${join(dir, 'missing.json')}=second`], {
      encoding: 'utf8',
    });
    assert.equal(total.status, 1);
    const lines = total.stdout.trimEnd().split('\n');
    assert.equal(lines.at(-1), '2 passed, 4 failed');
    // The failures come first, with their errors, so the end of the output (all CI keeps) explains them.
    assert.equal(lines[0], 'failed in main:');
    assert.match(lines[1] ?? '', /^  ✖ fails \(.*a\.test\.mjs\)$/);
    assert.deepEqual(lines.slice(2, 4), ['      no: first line', '      second line']);
    assert.match(total.stdout, /✖ asserts[^\n]*\n {6}AssertionError: one is not two/);
    assert.match(total.stdout, /✖ times out/);
    assert.ok(!total.stdout.includes('failed in second'), 'a missing pass lists no failures');
    assert.match(lines.find((l) => l.startsWith('main:')) ?? '', /^main: 2 passed, 3 failed \(1 cancelled/);

    writeFileSync(join(dir, 'ok.json'), `${JSON.stringify({ summary: counts(3, 0) })}\n`);
    const ok = spawnSync(process.execPath, [reporterPath, join(dir, 'ok.json'), join(dir, 'ok.json')], { encoding: 'utf8' });
    assert.equal(ok.status, 0);
    assert.equal(ok.stdout.trimEnd().split('\n').at(-1), '6 passed, 0 failed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
