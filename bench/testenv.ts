// Benchmark: bringing the whole test environment up and down (control plane with kube-controller-manager,
// PostgreSQL with a database, two S3 regions with a bucket each), N times; per-part and total times as
// min / median / max. Issue 3's goal: a warm run brings it all up in under 30 s.
//
//   node bench/testenv.ts [--runs 3] [--pg 15|18] [--via-cli] [--setup-runs 0] [--up-timeout-s 180] [--json]
//
// In-process (default): startTestEnvironment() / stop() from test/env/cli.ts in this process.
// --via-cli: each run spawns `node test/env/cli.ts --json --print-timings` and measures from the spawn to
// its JSON line (Node start and module loading included), then from SIGTERM to its exit; the CLI's
// messages go to a log in the temp dir, kept when the run fails (a start over --up-timeout-s is stopped).
// --setup-runs N: also times N runs of `bash scripts/setup.sh` (refused unless already installed: warm).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startTestEnvironment, type EnvironmentTimings } from '../test/env/cli.ts';
import { repoRoot } from '../test/env/process.ts';
import type { PgMajor } from '../test/env/tools.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    pg: { type: 'string', default: '15' },
    'via-cli': { type: 'boolean', default: false },
    'setup-runs': { type: 'string', default: '0' },
    json: { type: 'boolean', default: false },
    'up-timeout-s': { type: 'string', default: '180' },
  },
});
const upTimeoutMs = Number(values['up-timeout-s']) * 1000;
const runs = Number(values.runs);
const setupRuns = Number(values['setup-runs']);
if (!Number.isInteger(runs) || runs < 0) throw new Error(`--runs must be a whole number, got ${values.runs}`);
if (!Number.isInteger(setupRuns) || setupRuns < 0) throw new Error(`--setup-runs must be a whole number, got ${values['setup-runs']}`);
if (values.pg !== '15' && values.pg !== '18') throw new Error(`--pg must be 15 or 18, got ${values.pg}`);
const pgMajor = Number(values.pg) as PgMajor;
const viaCli = values['via-cli'];

/** One run: part name -> milliseconds. */
type Run = Record<string, number>;

function fromTimings(t: EnvironmentTimings): Run {
  return {
    'up: etcd': t.kube.etcdReadyMs,
    'up: kube-apiserver': t.kube.apiserverReadyMs,
    'up: kube-controller-manager': t.kube.kcmReadyMs,
    'up: kubernetes (all)': t.kube.totalMs,
    'up: postgres server': t.postgresMs,
    'up: postgres database': t.databaseMs,
    'up: s3 two servers': t.s3Ms,
    'up: s3 buckets': t.bucketsMs,
    'up: total (parallel)': t.totalMs,
  };
}

async function inProcessRun(): Promise<Run> {
  const env = await startTestEnvironment({ pgMajor });
  const stopped = await env.stop();
  return {
    ...fromTimings(env.timings),
    'down: kubernetes': stopped.kubeMs,
    'down: postgres': stopped.postgresMs,
    'down: s3': stopped.s3Ms,
    'down: total (parallel)': stopped.totalMs,
  };
}

async function cliRun(index: number): Promise<Run> {
  const log = join(tmpdir(), `lokdarpan-bench-testenv-${process.pid}-${index}.log`);
  const fd = openSync(log, 'w');
  const t0 = performance.now();
  const child = spawn(process.execPath, [join(repoRoot, 'test/env/cli.ts'), '--json', '--print-timings', '--pg', String(pgMajor)], {
    stdio: ['ignore', 'pipe', fd],
  });
  closeSync(fd);
  const stderr = (): string => readFileSync(log, 'utf8');
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stdout = child.stdout;
  if (!stdout) throw new Error('no stdout pipe to the CLI');
  const timer = setTimeout(() => child.kill('SIGTERM'), upTimeoutMs);
  // The details are the first line on stdout; the CLI prints nothing else there.
  const first = await new Promise<string | undefined>((resolve) => {
    let buffered = '';
    stdout.setEncoding('utf8');
    stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const nl = buffered.indexOf('\n');
      if (nl >= 0) resolve(buffered.slice(0, nl));
    });
    void exited.then(() => resolve(undefined));
  });
  clearTimeout(timer);
  const upMs = performance.now() - t0;
  if (first === undefined) throw new Error(`the CLI exited before printing its details (log ${log}):\n${stderr()}`);
  const parsed = JSON.parse(first) as { timings: EnvironmentTimings };
  const t1 = performance.now();
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await exited;
  clearTimeout(killer);
  const downMs = performance.now() - t1;
  if (code !== 0) throw new Error(`the CLI exited with ${code} after SIGTERM (log ${log}):\n${stderr()}`);
  rmSync(log, { force: true });
  return { ...fromTimings(parsed.timings), 'up: spawn to details (whole CLI)': upMs, 'down: SIGTERM to exit': downMs };
}

/** Refuses unless setup.sh would find everything installed (else it would reinstall, e.g. `npm ci`). */
function assertWarm(): void {
  const stamp = join(repoRoot, 'node_modules', '.lokdarpan-lock.sha256');
  const want = createHash('sha256').update(readFileSync(join(repoRoot, 'package-lock.json'))).digest('hex');
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8').trim() !== want) {
    throw new Error('not warm: scripts/setup.sh would run `npm ci` (package-lock.json changed); run it once first');
  }
}

function setupRun(index: number): number {
  const log = join(tmpdir(), `lokdarpan-bench-setup-${process.pid}-${index}.log`);
  const fd = openSync(log, 'w');
  const t0 = performance.now();
  const result = spawnSync('bash', [join(repoRoot, 'scripts/setup.sh')], { stdio: ['ignore', fd, fd] });
  const ms = performance.now() - t0;
  closeSync(fd);
  if (result.status !== 0) throw new Error(`bash scripts/setup.sh exited with ${result.status}; log ${log}`);
  return ms;
}

function stats(xs: readonly number[]): { min: number; median: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { min: s[0]!, median, max: s[s.length - 1]! };
}

const sec = (ms: number): string => (ms / 1000).toFixed(2);

const machine = {
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  loadAverageAtStart: loadavg().map((l) => Number(l.toFixed(2))),
};
const mode = viaCli ? 'via the CLI (node test/env/cli.ts --json)' : 'in process (startTestEnvironment)';
if (!values.json) {
  process.stdout.write(
    `test environment up/down, PostgreSQL ${pgMajor}, ${mode}, ${runs} runs; ` +
      `${machine.cores} cores, ${machine.memoryGiB} GiB, load ${machine.loadAverageAtStart.join(' ')}\n`,
  );
}

const results: Run[] = [];
for (let i = 1; i <= runs; i++) {
  const run = viaCli ? await cliRun(i) : await inProcessRun();
  results.push(run);
  if (!values.json) {
    const up = run['up: spawn to details (whole CLI)'] ?? run['up: total (parallel)'] ?? 0;
    const down = run['down: SIGTERM to exit'] ?? run['down: total (parallel)'] ?? 0;
    process.stdout.write(`  run ${i}: up ${sec(up)} s, down ${sec(down)} s\n`);
  }
}

const setupMs: number[] = [];
if (setupRuns > 0) {
  assertWarm();
  for (let i = 1; i <= setupRuns; i++) {
    setupMs.push(setupRun(i));
    if (!values.json) process.stdout.write(`  bash scripts/setup.sh (warm) run ${i}: ${sec(setupMs.at(-1)!)} s\n`);
  }
}

const parts = results.length > 0 ? Object.keys(results[0]!) : [];
const summary = Object.fromEntries(parts.map((p) => [p, stats(results.map((r) => r[p] ?? 0))]));
if (values.json) {
  process.stdout.write(
    `${JSON.stringify({ pgMajor, mode, machine, runs: results, summary, setupMs, setup: setupMs.length ? stats(setupMs) : null }, null, 2)}\n`,
  );
} else {
  const width = Math.max(0, ...parts.map((p) => p.length), 'bash scripts/setup.sh (warm)'.length);
  process.stdout.write(`\n${'part'.padEnd(width)}  ${'min s'.padStart(7)}  ${'median s'.padStart(8)}  ${'max s'.padStart(7)}\n`);
  const row = (name: string, s: { min: number; median: number; max: number }): string =>
    `${name.padEnd(width)}  ${sec(s.min).padStart(7)}  ${sec(s.median).padStart(8)}  ${sec(s.max).padStart(7)}\n`;
  for (const p of parts) process.stdout.write(row(p, summary[p]!));
  if (setupMs.length > 0) process.stdout.write(row('bash scripts/setup.sh (warm)', stats(setupMs)));
}
