// Benchmark: what importing each top-level module the operator loads costs in memory. Every module is
// imported in a fresh child process (`node --expose-gc`, run from the repository root so bare specifiers
// resolve as the operator's do), which then runs a full GC and reports process.memoryUsage(); the
// baseline is the same child importing nothing. Each figure is the median of --runs children.
// Usage: node bench/import-cost.ts [--runs 3] [--module SPEC ...] [--json]
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';

const DEFAULT_MODULES = [
  '@kubernetes/client-node',
  'pg',
  '@aws-sdk/client-s3',
  '@aws-sdk/lib-storage',
  'umzug',
  'pino',
  'zod',
  'prom-client',
  'yaml',
  'croner',
  './src/runtime/kube.ts',
  './src/runtime/kube-config.ts',
  './src/adapters/s3/index.ts',
  './src/controllers/lokdarpan-database/engines.ts',
  './src/controllers/backup/engines.ts',
  './src/operator/operator.ts',
  './src/cli/operator.ts',
];

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    module: { type: 'string', multiple: true },
    json: { type: 'boolean', default: false },
  },
});
const RUNS = Math.max(1, Number(values.runs));
const modules = values.module?.length ? values.module : DEFAULT_MODULES;
const repoRoot = new URL('../', import.meta.url).pathname;

interface Sample {
  rssMb: number;
  heapUsedMb: number;
  externalMb: number;
  ms: number;
}

// The child: import (or not), collect garbage twice, report. An import failure is reported, not hidden.
const CHILD = `
const spec = process.argv[1];
const started = performance.now();
if (spec) await import(spec.startsWith('./') ? new URL(spec, 'file://' + process.cwd() + '/').href : spec);
const ms = performance.now() - started;
globalThis.gc(); globalThis.gc();
const m = process.memoryUsage();
process.stdout.write(JSON.stringify({ rssMb: m.rss / 1048576, heapUsedMb: m.heapUsed / 1048576, externalMb: (m.external + m.arrayBuffers) / 1048576, ms }));
process.exit(0);
`;

function measureOnce(spec: string): Sample {
  const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', CHILD, spec], {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  return JSON.parse(out) as Sample;
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function measure(spec: string): Sample {
  const samples = Array.from({ length: RUNS }, () => measureOnce(spec));
  return {
    rssMb: median(samples.map((s) => s.rssMb)),
    heapUsedMb: median(samples.map((s) => s.heapUsedMb)),
    externalMb: median(samples.map((s) => s.externalMb)),
    ms: median(samples.map((s) => s.ms)),
  };
}

const round = (x: number): number => Math.round(x * 10) / 10;
const loadStart = loadavg();
const baseline = measure('');
const rows = modules.map((spec) => {
  try {
    const s = measure(spec);
    return {
      module: spec,
      rssMb: round(s.rssMb),
      rssAddedMb: round(s.rssMb - baseline.rssMb),
      rssRatio: Math.round((s.rssMb / baseline.rssMb) * 100) / 100,
      heapUsedMb: round(s.heapUsedMb),
      heapAddedMb: round(s.heapUsedMb - baseline.heapUsedMb),
      importMs: Math.round(s.ms),
    };
  } catch (error) {
    return { module: spec, error: error instanceof Error ? error.message.split('\n')[0] : String(error) };
  }
});
const report = {
  node: process.version,
  runs: RUNS,
  loadAverageStart: loadStart.map(round),
  loadAverageEnd: loadavg().map(round),
  baseline: { module: '(bare node)', rssMb: round(baseline.rssMb), heapUsedMb: round(baseline.heapUsedMb) },
  modules: rows,
};

if (values.json) {
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
} else {
  const line = (cells: (string | number)[]): string => cells.map((c, i) => (i === 0 ? String(c).padEnd(50) : String(c).padStart(10))).join(' ');
  console.log(`node ${report.node}, median of ${RUNS} fresh processes; load average ${report.loadAverageStart.join(' ')} -> ${report.loadAverageEnd.join(' ')}`);
  console.log(line(['module', 'RSS MB', '+RSS MB', 'x bare', 'heap MB', '+heap MB', 'import ms']));
  console.log(line([report.baseline.module, report.baseline.rssMb, 0, 1, report.baseline.heapUsedMb, 0, 0]));
  for (const row of rows) {
    if ('error' in row) console.log(line([row.module, `error: ${row.error}`]));
    else console.log(line([row.module, row.rssMb, row.rssAddedMb, row.rssRatio, row.heapUsedMb, row.heapAddedMb, row.importMs]));
  }
}
