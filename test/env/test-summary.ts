// The test command's total: a `node --test` reporter that writes each pass's overall counts as one JSON
// line, and a command that adds up several passes and prints `N passed, N failed` as its last line.
//
//   node --test --test-reporter=spec --test-reporter-destination=stdout \
//        --test-reporter=./test/env/test-summary.ts --test-reporter-destination=pass1.json ...
//   node test/env/test-summary.ts pass1.json pass2.json     # exits 1 unless every pass ran and none failed
//
// "failed" counts failed and cancelled tests (node:test reports a timed-out test, and the subtests it cut
// short, as cancelled). A pass whose summary is missing or unreadable (its run crashed or was killed)
// counts as one failure, so a total of "0 failed" always means every pass finished without a failure.
// The reporter also writes one line per failed test (its name, file and the first lines of its error), and
// the command lists them before the total: CI keeps only the end of the output, and the reasons must be in it.
import { readFileSync } from 'node:fs';
import type { TestEvent } from 'node:test/reporters';

export interface PassCounts {
  readonly passed: number;
  readonly failed: number;
  readonly cancelled: number;
  readonly skipped: number;
  readonly todo: number;
}

export interface PassResult {
  /** What the pass was called (its summary file, by default). */
  readonly label: string;
  /** Undefined when the summary was missing or unreadable. */
  readonly counts: PassCounts | undefined;
}

export interface Total {
  readonly passed: number;
  /** Failed + cancelled tests, plus one per pass without a summary. */
  readonly failed: number;
}

export interface Failure {
  readonly name: string;
  readonly file: string | undefined;
  /** The first lines of the error, at most MESSAGE_CHARS characters. */
  readonly message: string;
}

const MESSAGE_LINES = 12;
const MESSAGE_CHARS = 1200;
/** How many failures the command lists (per pass); the rest are counted. */
const LISTED_FAILURES = 12;

const countKeys = ['passed', 'failed', 'cancelled', 'skipped', 'todo'] as const;

function readCounts(value: unknown): PassCounts | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  const out: Record<string, number> = {};
  for (const key of countKeys) {
    const n = record[key];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) return undefined;
    out[key] = n;
  }
  return out as unknown as PassCounts;
}

/** The first lines of an error as node:test reports it (the test's own error is the `cause` of its wrapper). */
export function errorText(error: unknown): string {
  const inner = error instanceof Error && error.cause !== undefined ? error.cause : error;
  const text = inner instanceof Error ? `${inner.name === 'Error' ? '' : `${inner.name}: `}${inner.message}` : String(inner);
  const lines = text.split('\n').slice(0, MESSAGE_LINES).join('\n');
  return lines.length > MESSAGE_CHARS ? `${lines.slice(0, MESSAGE_CHARS)}...` : lines;
}

/** A failed test or hook; undefined for a suite that failed only because a test inside it did. */
function failureOf(data: { name: string; file?: string; details: { error: unknown; type?: string } }): Failure | undefined {
  const { error, type } = data.details;
  if (type === 'suite' && (error as { failureType?: string } | undefined)?.failureType === 'subtestsFailed') return undefined;
  return { name: data.name, file: data.file, message: errorText(error) };
}

/**
 * The reporter (`--test-reporter=./test/env/test-summary.ts`): a JSON line per failed test, then one with
 * the counts of the whole run, from the `test:summary` event that covers all files (its `file` is undefined).
 */
export default async function* summaryReporter(source: AsyncIterable<TestEvent>): AsyncGenerator<string, void> {
  for await (const event of source) {
    if (event.type === 'test:fail') {
      const failure = failureOf(event.data);
      if (failure) yield `${JSON.stringify({ failure })}\n`;
      continue;
    }
    if (event.type !== 'test:summary' || event.data.file !== undefined) continue;
    // @types/node 24 leaves `failed` out of `counts`; Node 24 sends it (checked by readCounts).
    const counts = readCounts(event.data.counts);
    yield `${JSON.stringify({ summary: counts ?? null, success: event.data.success })}\n`;
  }
}

/** The counts in a summary file's text: its last well-formed summary line, or undefined. */
export function parseSummary(text: string): PassCounts | undefined {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  for (const line of lines.reverse()) {
    try {
      const parsed = JSON.parse(line) as unknown;
      if (typeof parsed === 'object' && parsed !== null && 'summary' in parsed) {
        const counts = readCounts((parsed as { summary: unknown }).summary);
        if (counts) return counts;
      }
    } catch {
      // not a summary line
    }
  }
  return undefined;
}

/** The failures listed in a summary file's text, in the order they happened. */
export function parseFailures(text: string): Failure[] {
  const failures: Failure[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{"failure"')) continue;
    try {
      const f = (JSON.parse(line) as { failure?: Partial<Failure> }).failure;
      if (typeof f?.name === 'string' && typeof f.message === 'string') failures.push({ name: f.name, file: typeof f.file === 'string' ? f.file : undefined, message: f.message });
    } catch {
      // a cut line: the run was killed while writing it
    }
  }
  return failures;
}

/** The failures of one pass as the command prints them: name, file and the error's first lines, indented. */
export function formatFailures(label: string, failures: readonly Failure[]): string[] {
  if (failures.length === 0) return [];
  const out = [`failed in ${label}:`];
  for (const f of failures.slice(0, LISTED_FAILURES)) {
    out.push(`  ✖ ${f.name}${f.file ? ` (${f.file})` : ''}`);
    for (const line of f.message.split('\n')) out.push(`      ${line}`);
  }
  if (failures.length > LISTED_FAILURES) out.push(`  ... and ${failures.length - LISTED_FAILURES} more (see the output above)`);
  return out;
}

export function addUp(passes: readonly PassResult[]): Total {
  let passed = 0;
  let failed = 0;
  for (const pass of passes) {
    if (!pass.counts) {
      failed += 1;
      continue;
    }
    passed += pass.counts.passed;
    failed += pass.counts.failed + pass.counts.cancelled;
  }
  return { passed, failed };
}

/** The last line of the test command's output, which CI reads. */
export function formatTotal(total: Total): string {
  return `${total.passed} passed, ${total.failed} failed`;
}

export function formatPass(pass: PassResult): string {
  if (!pass.counts) return `${pass.label}: no summary (the run crashed or was interrupted): counted as 1 failed`;
  const c = pass.counts;
  const cancelled = c.cancelled > 0 ? ` (${c.cancelled} cancelled, counted as failed)` : '';
  return `${pass.label}: ${c.passed} passed, ${c.failed + c.cancelled} failed${cancelled}, ${c.skipped} skipped, ${c.todo} todo`;
}

function readPass(file: string, label: string): PassResult & { failures: Failure[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { label, counts: undefined, failures: [] };
  }
  return { label, counts: parseSummary(text), failures: parseFailures(text) };
}

/**
 * `node test/env/test-summary.ts FILE[=LABEL]...`: the failures of each pass, one line per pass, then the
 * total; exit 1 on any failure.
 */
export function main(args: readonly string[]): number {
  if (args.length === 0) {
    process.stderr.write('usage: node test/env/test-summary.ts SUMMARY_FILE[=LABEL]...\n');
    return 2;
  }
  const passes = args.map((arg) => {
    const eq = arg.indexOf('=');
    return eq > 0 ? readPass(arg.slice(0, eq), arg.slice(eq + 1)) : readPass(arg, arg);
  });
  for (const pass of passes) for (const line of formatFailures(pass.label, pass.failures)) process.stdout.write(`${line}\n`);
  for (const pass of passes) process.stdout.write(`${formatPass(pass)}\n`);
  const total = addUp(passes);
  process.stdout.write(`${formatTotal(total)}\n`);
  return total.failed === 0 ? 0 : 1;
}

if (import.meta.main) process.exitCode = main(process.argv.slice(2));
