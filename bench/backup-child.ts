// One measured run of the project's backup or restore pipeline in its own process, so its peak RSS is
// the operator's alone. Called by bench/backup.ts with a JSON argument; prints one JSON line.
import { PassThrough, Readable, Writable } from 'node:stream';
import { createReadStream } from 'node:fs';
import { spawn } from 'node:child_process';
import { pgBackupSource, type PgTarget } from '../src/adapters/pgdump/index.ts';
import { S3ObjectStore, type S3StoreConfig } from '../src/adapters/s3/index.ts';
import { runBackup, type ObjectStore } from '../src/engines/backup/index.ts';
import { runRestore } from '../src/engines/restore/index.ts';
import { pino } from 'pino';

interface Job {
  mode: 'null' | 's3' | 'ingest' | 'tools' | 'restore';
  target: PgTarget;
  binDir: string;
  major: number;
  recipients: string[];
  identity?: string;
  primary?: S3StoreConfig;
  replica?: S3StoreConfig;
  file?: string;
  /** tools: the shell pipeline whose output is uploaded (its variables come from this process's environment). */
  script?: string;
  manifestKey?: string;
  id?: string;
  /** Unset: the engine's defaults. */
  partMiB?: number;
  queueSize?: number;
  replicaMode?: 'after' | 'during';
}

const job = JSON.parse(process.argv[2] as string) as Job;
const uploadTuning = { ...(job.partMiB === undefined ? {} : { partSize: job.partMiB * 1024 * 1024 }), ...(job.queueSize === undefined ? {} : { queueSize: job.queueSize }) };

/** An ObjectStore whose upload drains the stream (the pipeline to /dev/null). */
function nullStore(): ObjectStore {
  const never = async (): Promise<never> => {
    throw new Error('not supported by the null store');
  };
  return {
    name: 'null', bucket: 'null', key: (k) => k,
    async upload(key, body) {
      await new Promise<void>((resolve, reject) => {
        body.on('error', reject);
        body.pipe(new Writable({ write: (_c, _e, cb) => cb() })).on('finish', resolve).on('error', reject);
      });
      return { key };
    },
    put: async (key) => ({ key }), get: never, getBuffer: never, head: async () => undefined,
    list: () => Readable.from([]), delete: async (key) => ({ status: 'deleted', key }), copyFrom: never,
  };
}

// What the process holds before the run (node, the loaded modules, the SDK), then the peaks of each
// part of it during the run: JS heap, memory outside it (external, of which arrayBuffers are Buffers),
// and RSS. RSS minus heapTotal minus external is mostly code and V8's own structures.
const MiB = 1024 * 1024;
const inMiB = (m: NodeJS.MemoryUsage): Record<string, number> => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Math.round(v / MiB)]));
const beforeRun = process.memoryUsage();
const peak: NodeJS.MemoryUsage = { ...beforeRun };
const sample = (): void => {
  const m = process.memoryUsage();
  for (const k of Object.keys(peak) as Array<keyof NodeJS.MemoryUsage>) peak[k] = Math.max(peak[k], m[k]);
};
const sampler = setInterval(sample, 25);
const started = performance.now();
const cpuAtStart = process.cpuUsage();
let extra: Record<string, unknown> = {};
// The engine's own log lines, timed: where a run spends its time (upload, replica, verification; pg_restore
// and the row count check).
const phases: Array<{ at: number; msg: string; destination?: string }> = [];
const logger = pino({ level: 'info' }, { write: (line: string) => {
  const entry = JSON.parse(line) as { msg: string; destination?: string };
  phases.push({ at: Number(((performance.now() - started) / 1000).toFixed(2)), msg: entry.msg, ...(entry.destination === undefined ? {} : { destination: entry.destination }) });
} });
if (job.mode === 'null' || job.mode === 's3') {
  const primary = job.mode === 'null' ? nullStore() : new S3ObjectStore(job.primary as S3StoreConfig);
  const replicas = job.mode === 's3' && job.replica !== undefined ? [new S3ObjectStore(job.replica)] : [];
  const r = await runBackup({
    logger,
    source: pgBackupSource(job.target, { binDirs: { [job.major]: job.binDir } }),
    replicaMode: job.replicaMode ?? 'after',
    primary, replicas, recipients: job.recipients, database: 'bench', backupId: job.id ?? `b${Date.now()}`,
    ...uploadTuning, verifyPrimary: job.mode === 's3',
  });
  extra = { plainBytes: r.manifest.plainBytes, encryptedBytes: r.manifest.encryptedBytes, manifestKey: r.manifestKey, destinations: r.destinations.map((d) => `${d.name}:${d.method}:${d.verified}`), phases };
} else if (job.mode === 'ingest') {
  const store = new S3ObjectStore(job.primary as S3StoreConfig);
  await store.upload(store.key(`ingest-${Date.now()}.bin`), createReadStream(job.file as string, { highWaterMark: 1 << 20 }), uploadTuning);
} else if (job.mode === 'tools') {
  // The CLI tools' output uploaded to the primary and the replica at once, nothing verified: the least
  // work that puts these bytes in both buckets.
  const tools = spawn('bash', ['-c', `set -eo pipefail; ${job.script as string}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve, reject) => tools.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`tools exited ${code}`)))));
  const key = `tools-${Date.now()}.bin`;
  const uploads = [job.primary, job.replica].map((config) => {
    const store = new S3ObjectStore(config as S3StoreConfig);
    const branch = new PassThrough({ highWaterMark: 1 << 20 });
    tools.stdout.pipe(branch);
    return store.upload(store.key(key), branch, uploadTuning);
  });
  await Promise.all([exited, ...uploads]);
} else {
  const r = await runRestore({
    logger, store: new S3ObjectStore(job.primary as S3StoreConfig), manifestKey: job.manifestKey as string, identities: [job.identity as string],
    target: job.target, createDatabase: true, binDirs: { [job.major]: job.binDir },
  });
  extra = { rowCountCheck: r.rowCountCheck?.passed, phases };
}
const seconds = (performance.now() - started) / 1000;
clearInterval(sampler);
sample();
const memory = { beforeRunMiB: inMiB(beforeRun), peakDuringRunMiB: inMiB(peak) };
// CPU seconds of this process (main thread and thread pool: age, SHA-256, zstd, HTTP); not pg_dump's.
const cpu = process.cpuUsage(cpuAtStart);
const cpuSeconds = Number(((cpu.user + cpu.system) / 1e6).toFixed(2));
process.stdout.write(`${JSON.stringify({ mode: job.mode, seconds, maxRssMiB: process.resourceUsage().maxRSS / 1024, cpuSeconds, memory, ...extra })}\n`);
process.exit(0);
