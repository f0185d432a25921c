// Benchmark of the backup pipeline, in one run against a generated database (throwaway PostgreSQL and
// two SeaweedFS servers from test/env):
//   1. pg_dump -Fc > /dev/null                                  (the default, gzip-bound)
//      pg_dump -Fc -Z0 > /dev/null                              (no compression: the fastest any pg_dump-based
//                                                                backup can produce its bytes)
//   2. pg_dump -Fc -Z0 | zstd -1 | age -r KEY > /dev/null        (the CLI tools)
//   3. the project's pipeline to /dev/null                       (pg_dump -Z0 -> node zstd -> node age -> sha256)
//   4. the project's pipeline to S3 with one replica on the other server (upload, stream copy, verify),
//      and the same with replicaMode 'during' (both uploads from the one stream, then both verified)
//   5. the S3 server's own ingest of the same bytes (SDK multipart upload of the finished file), and the
//      CLI tools' output uploaded to both buckets at once with the SDK, unverified (the least work that
//      puts the bytes in both buckets: what 4 does without the engine and the verification)
//   6. restore: the project's restore (download, verify, decrypt, zstd -d, pg_restore, then its exact row counts
//      of every table compared with the manifest; also timed until pg_restore exited) vs pg_restore of a local
//      -Fc -Z0 file
// Rates are database size / wall time. Steps 3, 4, 5 and 6 run in a child process (bench/backup-child.ts)
// whose peak RSS is reported. --entry: what that child runs: `bundle` (default; the child bundled into
// dist/bench with the image's esbuild options from scripts/build-bundle.ts, so RSS and rates are those of
// the shipped code) or `source` (the TypeScript with Node's type stripping, whose stripper and whole
// modules add ~35 MiB of RSS before the run: 110 vs 76 MiB measured).
// Goals (issue 13, quiet machine, 2 GB): 3 >= 2.5 x 1 and >= 0.95 x 2; 4 >= 0.8 x 5; restore >= 0.9 x
// pg_restore of the local file; peak RSS of the pipeline < 150 MB at every size (run --gb 1, 2 and 4).
// The load average is recorded at the start and the end: figures from a busy machine are for direction.
//
// Each child also reports process.memoryUsage() before the run (node and the loaded modules) and the peak
// of each part during it (heap, external/arrayBuffers, RSS), so the RSS can be accounted for.
// --only runs a subset of the steps (for iterating; the goals need all of them). --part-mib and --queue
// override the engine's multipart part size and parts in flight (default: the engine's defaults).
//
//   node bench/backup.ts [--gb 1|2|4] [--part-mib N] [--queue N] [--only cli,null,s3,during,ingest,restore]
//                        [--entry bundle|source] [--json]
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { startPostgres } from '../test/env/postgres.ts';
import { startTwoRegions } from '../test/env/s3.ts';
import { ageBinary, zstdBinary } from '../test/env/tools.ts';
import { generateIdentity } from '../src/adapters/age/index.ts';
import { buildBundle, repoRoot } from '../scripts/build-bundle.ts';

const run = promisify(execFile);
const { values } = parseArgs({
  options: { gb: { type: 'string', default: '2' }, 'part-mib': { type: 'string' }, queue: { type: 'string' }, only: { type: 'string' }, entry: { type: 'string', default: 'bundle' }, json: { type: 'boolean', default: false } },
});
const gb = Number(values.gb);
const partMiB = values['part-mib'] === undefined ? undefined : Number(values['part-mib']);
const queueSize = values.queue === undefined ? undefined : Number(values.queue);
const STEPS = ['cli', 'null', 's3', 'during', 'ingest', 'tools', 'restore'] as const;
const steps = new Set(values.only === undefined ? STEPS : values.only.split(','));
const runs = (step: (typeof STEPS)[number]): boolean => steps.has(step);
if (!(gb > 0) || (partMiB !== undefined && !(partMiB >= 5)) || (queueSize !== undefined && !(queueSize >= 1))) {
  throw new Error('--gb must be a positive number of GiB (1, 2 or 4 for the goals), --part-mib at least 5, --queue at least 1');
}
if ([...steps].some((x) => !(STEPS as readonly string[]).includes(x))) throw new Error(`--only takes ${STEPS.join(',')}`);
if (values.entry !== 'bundle' && values.entry !== 'source') throw new Error(`--entry ${values.entry}: bundle or source`);
// dist/bench: two levels under the repository root, like dist/cli, so paths found from import.meta.url hold.
const childEntry = values.entry === 'bundle'
  ? await buildBundle(join(repoRoot, 'dist/bench'), { name: 'backup-child', source: 'bench/backup-child.ts' })
  : new URL('./backup-child.ts', import.meta.url).pathname;
const MiB = 1024 * 1024;
const load = (): number[] => loadavg().map((x) => Number(x.toFixed(2)));
const loadAtStart = load();
const startedAt = new Date().toISOString();

const pg = await startPostgres({ settings: { shared_buffers: '256MB', max_wal_size: '4GB', checkpoint_timeout: '30min' } });
const s3 = await startTwoRegions();
const dir = await mkdtemp(join(tmpdir(), 'lokdarpan-bench-backup-'));
try {
  await Promise.all([s3.primary.createBucket('bench'), s3.secondary.createBucket('bench-dr')]);
  const db = await pg.createDatabase({ withVector: !pg.withoutVector, withOwnerRole: false });
  // ~260 bytes a row of text that compresses about like real posts (zstd -1 ratio ~4), plus an embedding.
  const rows = Math.round((gb * 1024 ** 3) / 330);
  const t0 = performance.now();
  await pg.query(
    `CREATE TABLE post (id bigint PRIMARY KEY, ward text, body text, score real, created_at timestamptz${pg.withoutVector ? '' : ', embedding vector(8)'})`,
    [],
    db.name,
  );
  const chunk = 500_000;
  for (let start = 1; start <= rows; start += chunk) {
    const end = Math.min(rows, start + chunk - 1);
    await pg.query(
      `INSERT INTO post SELECT g, 'ward-' || (g % 150), md5(g::text) || ' ' || repeat(substr('corporator budget water drainage roads election rally ward news ', 1 + (g % 40), 40), 4) || ' ' || md5((g * 7)::text),
        (g % 1000) / 10.0, timestamptz '2026-01-01' - g * interval '1 second'
        ${pg.withoutVector ? '' : ", ('[' || (g % 7) || ',' || (g % 11) || ',' || (g % 13) || ',1,2,3,4,' || (g % 5) || ']')::vector"}
       FROM generate_series(${start}, ${end}) g`,
      [],
      db.name,
    );
  }
  await pg.query('VACUUM ANALYZE post', [], db.name);
  const size = Number((await pg.query<{ s: string }>('SELECT pg_database_size(current_database()) AS s', [], db.name)).rows[0]?.s);
  const fillSeconds = (performance.now() - t0) / 1000;

  const key = generateIdentity();
  const env = { ...process.env, ...pg.cliEnv(db.name), PGD: join(pg.binDir, 'pg_dump'), AGE: ageBinary(), ZSTD: zstdBinary(), R: key.recipient, DIR: dir };
  const shell = async (script: string): Promise<number> => {
    const t = performance.now();
    await run('bash', ['-c', `set -eo pipefail; ${script}`], { env, maxBuffer: 1 << 20 });
    return (performance.now() - t) / 1000;
  };
  const target = { host: pg.host, port: pg.port, user: pg.superuser.user, password: pg.superuser.password, database: db.name };
  const storeConfig = (server: typeof s3.primary, bucket: string) => {
    const c = server.connection();
    return { name: server.name, bucket, endpoint: c.endpoint, region: c.region, forcePathStyle: true, credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey }, checksums: 'WHEN_REQUIRED' };
  };
  const child = (job: Record<string, unknown>, childEnv: NodeJS.ProcessEnv = process.env): Record<string, unknown> => {
    const r = spawnSync(process.execPath, [childEntry, JSON.stringify({ target, binDir: pg.binDir, major: pg.major, recipients: [key.recipient], partMiB, queueSize, ...job })], { encoding: 'utf8', maxBuffer: 1 << 20, env: childEnv });
    if (r.status !== 0) throw new Error(`child ${String(job['mode'])} failed: ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').pop() as string) as Record<string, unknown>;
  };

  type Memory = Record<string, Record<string, number>>;
  type Extra = { maxRssMiB?: number; cpuSeconds?: number; note?: string; memory?: Memory };
  const results: Record<string, { seconds: number; mibPerSecond: number } & Extra> = {};
  const record = (name: string, seconds: number, extra: Extra = {}): void => {
    results[name] = { seconds: Number(seconds.toFixed(2)), mibPerSecond: Number((size / MiB / seconds).toFixed(1)), ...extra };
  };
  const phases: Record<string, unknown> = {};
  const childRecord = (name: string, run: Record<string, unknown>, note?: string): void => {
    record(name, run['seconds'] as number, { maxRssMiB: Math.round(run['maxRssMiB'] as number), cpuSeconds: run['cpuSeconds'] as number, ...(note === undefined ? {} : { note }), memory: run['memory'] as Memory });
  };
  if (runs('cli')) {
    record('pg_dump -Fc > /dev/null', await shell('"$PGD" -Fc > /dev/null'));
    record('pg_dump -Fc -Z0 > /dev/null', await shell('"$PGD" -Fc -Z0 > /dev/null'));
    record('pg_dump -Fc -Z0 | zstd -1 | age', await shell('"$PGD" -Fc -Z0 | "$ZSTD" -1 -q | "$AGE" -r "$R" > /dev/null'));
  }
  if (runs('null')) childRecord('project pipeline -> /dev/null', child({ mode: 'null' }));
  let manifestKey: unknown;
  if (runs('s3') || runs('restore')) {
    const s3Run = child({ mode: 's3', primary: storeConfig(s3.primary, 'bench'), replica: storeConfig(s3.secondary, 'bench-dr'), id: 'bench-1' });
    manifestKey = s3Run['manifestKey'];
    childRecord('project pipeline -> S3 + replica (verified)', s3Run, String(s3Run['destinations']));
    phases['after'] = s3Run['phases'];
  }
  if (runs('during')) {
    const teeRun = child({ mode: 's3', primary: storeConfig(s3.primary, 'bench'), replica: storeConfig(s3.secondary, 'bench-dr'), id: 'bench-tee', replicaMode: 'during' });
    childRecord('  same, replicaMode during (one stream to both)', teeRun, String(teeRun['destinations']));
    phases['during'] = teeRun['phases'];
  }
  if (runs('ingest')) {
    // The same bytes the pipeline stores, written once by the CLI tools, then ingested with the SDK.
    await shell('"$PGD" -Fc -Z0 | "$ZSTD" -1 -q | "$AGE" -r "$R" > "$DIR/backup.age"');
    const encrypted = (await stat(join(dir, 'backup.age'))).size;
    const ingest = child({ mode: 'ingest', primary: storeConfig(s3.primary, 'bench'), file: join(dir, 'backup.age') });
    childRecord('S3 ingest of the finished file (SDK)', ingest, `${(encrypted / MiB).toFixed(0)} MiB`);
  }
  if (runs('tools')) {
    const tools = child({ mode: 'tools', primary: storeConfig(s3.primary, 'bench'), replica: storeConfig(s3.secondary, 'bench-dr'), script: '"$PGD" -Fc -Z0 | "$ZSTD" -1 -q | "$AGE" -r "$R"' }, env);
    childRecord('CLI pipeline -> S3 + replica at once (SDK, unverified)', tools);
  }
  if (runs('restore')) {
    // Each restore starts from a checkpoint: the fill's and the other restore's WAL would otherwise trigger
    // one in the middle of whichever runs next.
    await pg.query('CHECKPOINT');
    const restore = child({ mode: 'restore', primary: storeConfig(s3.primary, 'bench'), manifestKey, identity: key.identity, target: { ...target, database: 'bench_restored' } });
    childRecord('project restore from S3 (verify, decrypt, zstd -d, pg_restore)', restore);
    phases['restore'] = restore['phases'];
    // The restore then counts every table's rows (exact counts, compared with the manifest): the baseline does not.
    const restored = (restore['phases'] as Array<{ at: number; msg: string }>).find((p) => p.msg === 'pg_restore finished');
    if (restored !== undefined) record('  same, until pg_restore exited (before the row count check)', restored.at);
    await shell('"$PGD" -Fc -Z0 -f "$DIR/plain.dump" --no-sync');
    await pg.query('CREATE DATABASE bench_plain TEMPLATE template0');
    await pg.query('CHECKPOINT');
    record('pg_restore from a local -Fc -Z0 file', await shell(`"${join(pg.binDir, 'pg_restore')}" --no-owner --single-transaction -d bench_plain "$DIR/plain.dump"`));
  }

  const r = (name: string): number => results[name]?.mibPerSecond ?? NaN;
  const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;
  const pipeline = r('project pipeline -> /dev/null');
  const ingestRate = r('S3 ingest of the finished file (SDK)');
  const s3Rate = r('project pipeline -> S3 + replica (verified)');
  const goals = {
    'pipeline >= 2.5 x pg_dump -Fc': ratio(pipeline, r('pg_dump -Fc > /dev/null')),
    'pipeline >= 0.95 x CLI pipeline': ratio(pipeline, r('pg_dump -Fc -Z0 | zstd -1 | age')),
    'S3 + replica >= 0.8 x S3 ingest': `${ratio(s3Rate, ingestRate)} (of min(pipeline, ingest): ${ratio(s3Rate, Math.min(pipeline, ingestRate))}; during: ${ratio(r('  same, replicaMode during (one stream to both)'), ingestRate)})`,
    'S3 + replica vs the CLI tools to both buckets, unverified': ratio(s3Rate, r('CLI pipeline -> S3 + replica at once (SDK, unverified)')),
    // Under 0.8, no pg_dump-based backup can meet the S3 goal: pg_dump alone, writing to /dev/null, is too slow.
    'ceiling: pg_dump -Fc -Z0 alone / S3 ingest': ratio(r('pg_dump -Fc -Z0 > /dev/null'), ingestRate),
    'restore >= 0.9 x pg_restore of a local -Z0 file': ratio(r('project restore from S3 (verify, decrypt, zstd -d, pg_restore)'), r('pg_restore from a local -Fc -Z0 file')),
    'restore until pg_restore exited / pg_restore of the local file': ratio(r('  same, until pg_restore exited (before the row count check)'), r('pg_restore from a local -Fc -Z0 file')),
    // The ingest child only uploads a file: the goal is about the backup and restore pipelines.
    'peak RSS < 150 MB': `${Math.max(...Object.entries(results).filter(([name]) => !name.startsWith('S3 ingest')).map(([, x]) => x.maxRssMiB ?? 0))} MiB`,
  };
  const report = {
    machine: { cores: cpus().length, pgMajor: pg.major, startedAt, loadAverage: { start: loadAtStart, end: load() } },
    nodeOptions: process.env['NODE_OPTIONS'] ?? '',
    entry: values.entry,
    database: { rows, bytes: size, mib: Math.round(size / MiB), fillSeconds: Math.round(fillSeconds) }, partMiB: partMiB ?? 'engine default', queueSize: queueSize ?? 'engine default', results, goals,
    // seconds from the start of each child run (S3 backups, restore) to the engine's log lines
    phases,
  };
  if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    process.stdout.write(`database: ${report.database.mib} MiB, ${rows} rows, PostgreSQL ${pg.major}, ${report.machine.cores} cores, child ${values.entry}, parts ${partMiB ?? 'default'} MiB\n`);
    process.stdout.write(`load average (1, 5, 15 min): start ${loadAtStart.join(' ')}, end ${report.machine.loadAverage.end.join(' ')}\n`);
    for (const [name, x] of Object.entries(results)) {
      process.stdout.write(`  ${name.padEnd(66)} ${x.seconds.toFixed(1).padStart(7)} s ${x.mibPerSecond.toFixed(1).padStart(7)} MiB/s${x.maxRssMiB === undefined ? '' : `  rss ${x.maxRssMiB} MiB, cpu ${x.cpuSeconds} s`}${x.note === undefined ? '' : `  (${x.note})`}\n`);
      if (x.memory !== undefined) process.stdout.write(`  ${''.padEnd(66)} memory MiB before ${JSON.stringify(x.memory['beforeRunMiB'])} peak ${JSON.stringify(x.memory['peakDuringRunMiB'])}\n`);
    }
    for (const [mode, lines] of Object.entries(phases)) {
      process.stdout.write(`  phases (${mode}): ${(lines as Array<{ at: number; msg: string; destination?: string }>).map((p) => `${p.at} s ${p.msg}${p.destination === undefined ? '' : ` (${p.destination})`}`).join('; ')}\n`);
    }
    for (const [goal, value] of Object.entries(goals)) process.stdout.write(`  goal: ${goal.padEnd(48)} ${value}\n`);
  }
} finally {
  await Promise.allSettled([pg.stop(), s3.primary.stop(), s3.secondary.stop()]);
  await rm(dir, { recursive: true, force: true });
}
