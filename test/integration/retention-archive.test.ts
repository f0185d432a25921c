// Archive retention end to end: the CLI in a child process archives rows to S3 (SeaweedFS) as
// age-encrypted zstd NDJSON, is SIGKILLed mid-run (twice), and the next run finishes. Then every object
// is decrypted with the `age` CLI and decompressed with the `zstd` CLI: together they hold exactly the
// rows that were deleted, each once, byte-identical to PostgreSQL's JSON of the row before the run.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type pg from 'pg';
import { startPostgres, type PostgresServer, type TestDatabase } from '../env/postgres.ts';
import { makeTempDir, repoRoot } from '../env/process.ts';
import { startS3, type S3Server } from '../env/s3.ts';
import { ageBinary, ageKeygenBinary, zstdBinary } from '../env/tools.ts';
import { createAiDatabase, seedAiTables } from './retention-fixture.ts';

const NOW = new Date();
const ROWS = 4000;
const BUCKET = 'lokdarpan-archive';
const PREFIX = 'prod/';

describe('retention archive to S3 with a killed run', () => {
  let server: PostgresServer;
  let s3: S3Server;
  let db: TestDatabase;
  let client: pg.Client;
  let dir: string;
  let s3client: S3Client;

  before(async () => {
    [server, s3] = await Promise.all([startPostgres(), startS3({ name: 'retention' })]);
    await s3.createBucket(BUCKET);
    s3client = s3.client();
    ({ db, client } = await createAiDatabase(server));
    await seedAiTables(client, NOW, { embeddings: 200, executions: 200, reports: 100, metrics: 500 });
    // Rows with a real payload: JSON, NULLs, floats, unicode, quotes.
    await client.query(
      `INSERT INTO ai_system_metrics (metric_name, metric_category, metric_scope, scope_identifier, metric_value, metric_unit, period_start,
         period_end, aggregation_type, sample_count, "metadata", tags, created_at)
       SELECT 'arch', 'cost', 'service', CASE WHEN i % 3 = 0 THEN NULL ELSE 'वार्ड ' || i || ' "q"' END, i / 7.0, 'usd', t, t, 'sum', i,
         jsonb_build_object('i', i, 'note', repeat('x', i % 50)), jsonb_build_array('a', i), t
       FROM (SELECT i, now() - interval '400 days' - make_interval(secs => i) t FROM generate_series(1, ${ROWS}) i) s`,
    );
    dir = await makeTempDir('retention-archive');
  });
  after(async () => {
    await client?.end().catch(() => {});
    await db?.drop().catch(() => {});
    await Promise.all([server?.stop(), s3?.stop()]);
  });

  async function listKeys(): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: PREFIX, ContinuationToken: token }));
      for (const item of page.Contents ?? []) if (item.Key) keys.push(item.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  }

  async function getObject(key: string): Promise<Buffer> {
    const out = await s3client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    return Buffer.from(await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
  }

  function cli(args: string[]): { child: ReturnType<typeof spawn>; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
    const script = `import { runRetentionCli } from ${JSON.stringify(join(repoRoot, 'src/cli/retention.ts'))};
      process.exitCode = await runRetentionCli(process.argv.slice(1), { stdout: process.stdout, stderr: process.stderr, env: process.env });`;
    const conn = s3.connection();
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, ...args], {
      env: { PATH: process.env['PATH'] ?? '', AWS_ACCESS_KEY_ID: conn.accessKeyId, AWS_SECRET_ACCESS_KEY: conn.secretAccessKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
    return { child, done };
  }

  it('archives, survives SIGKILL mid-run, and the archive decrypts with the age CLI to exactly the deleted rows', async (t) => {
    const keygen = spawnSync(ageKeygenBinary(), ['-o', join(dir, 'key.txt')], { encoding: 'utf8' });
    assert.equal(keygen.status, 0, keygen.stderr);
    const recipient = /age1[0-9a-z]+/.exec(readFileSync(join(dir, 'key.txt'), 'utf8'))?.[0];
    assert.ok(recipient);
    const rulesFile = join(dir, 'rules.yaml');
    writeFileSync(
      rulesFile,
      `rules:
  - name: metrics-archive
    table: ai_system_metrics
    olderThan: { column: created_at, age: 1y }
    filters:
      - { column: metric_name, op: eq, value: arch }
    action: archive
`,
    );
    const expected = (await client.query<{ doc: string }>("SELECT to_jsonb(t)::text AS doc FROM ai_system_metrics t WHERE metric_name = 'arch' ORDER BY id")).rows.map((r) => r.doc);
    const othersBefore = (await client.query("SELECT count(*)::int n, md5(string_agg(t::text, ',' ORDER BY id)) h FROM ai_system_metrics t WHERE metric_name <> 'arch'")).rows[0];
    assert.equal(expected.length, ROWS);
    const args = [
      'run', '--database-url', db.appUrl, '--rules', rulesFile, '--batch-size', '100', '--pause', '20ms', '--json',
      '--archive-bucket', BUCKET, '--archive-prefix', PREFIX, '--archive-endpoint', s3.endpoint, '--archive-path-style', '--recipient', recipient,
    ];

    // Kill twice, at different points, then let a run finish.
    for (const batchesBeforeKill of [3, 12]) {
      const { child, done } = cli(args);
      const deadline = Date.now() + 60_000;
      for (;;) {
        // Poll the table, not the bucket (a first S3 listing can take seconds): kill after N committed batches.
        const left = (await client.query("SELECT count(*)::int n FROM ai_system_metrics WHERE metric_name = 'arch'")).rows[0].n as number;
        if (left <= ROWS - 100 * batchesBeforeKill) break;
        if (Date.now() > deadline || child.exitCode !== null) assert.fail(`the run ended before ${batchesBeforeKill} batches: ${(await done).stderr}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      child.kill('SIGKILL');
      const killed = await done;
      assert.equal(killed.code, null, `killed, not finished (at ${batchesBeforeKill}): ${killed.stdout.slice(0, 1500)} ${killed.stderr.slice(0, 1500)}`);
    }
    const remainingAfterKills = (await client.query("SELECT count(*)::int n FROM ai_system_metrics WHERE metric_name = 'arch'")).rows[0].n;
    assert.ok(remainingAfterKills > 0 && remainingAfterKills < ROWS, `a partial state: ${remainingAfterKills} rows left`);

    const final = await cli(args).done;
    assert.equal(final.code, 0, final.stderr);
    const result = JSON.parse(final.stdout) as { status: string; rules: Array<{ archived: number; deleted: number }> };
    assert.equal(result.status, 'complete');
    assert.equal(result.rules[0]?.archived, remainingAfterKills);

    // The database: every archived row gone, nothing else touched.
    assert.equal((await client.query("SELECT count(*)::int n FROM ai_system_metrics WHERE metric_name = 'arch'")).rows[0].n, 0);
    assert.deepEqual((await client.query("SELECT count(*)::int n, md5(string_agg(t::text, ',' ORDER BY id)) h FROM ai_system_metrics t WHERE metric_name <> 'arch'")).rows[0], othersBefore);

    // The bucket: no batch left in flight, one manifest per object, SHA-256 as recorded.
    const keys = await listKeys();
    assert.deepEqual(keys.filter((k) => k.includes('/_pending/')), []);
    const dataKeys = keys.filter((k) => k.endsWith('.ndjson.zst.age'));
    const manifestKeys = keys.filter((k) => k.endsWith('.manifest.json'));
    assert.equal(manifestKeys.length, dataKeys.length);
    assert.equal(keys.length, dataKeys.length + manifestKeys.length);
    const archived: string[] = [];
    let manifestRows = 0;
    let recovered = 0;
    for (const key of dataKeys) {
      assert.ok(key.startsWith(`${PREFIX}retention/public.ai_system_metrics/metrics-archive/`), key);
      const body = await getObject(key);
      const manifest = JSON.parse((await getObject(key.replace(/\.ndjson\.zst\.age$/, '.manifest.json'))).toString()) as { sha256: string; count: number; format: string; recovered?: boolean };
      if (manifest.recovered === true) recovered++;
      assert.equal(manifest.sha256, createHash('sha256').update(body).digest('hex'));
      assert.equal(manifest.format, 'ndjson+zstd+age');
      manifestRows += manifest.count;
      const decrypted = spawnSync(ageBinary(), ['-d', '-i', join(dir, 'key.txt')], { input: body, maxBuffer: 64 << 20 });
      assert.equal(decrypted.status, 0, decrypted.stderr?.toString());
      const plain = spawnSync(zstdBinary(), ['-dc'], { input: decrypted.stdout, maxBuffer: 64 << 20 });
      assert.equal(plain.status, 0, plain.stderr?.toString());
      const lines = plain.stdout.toString('utf8').trimEnd().split('\n');
      assert.equal(lines.length, manifest.count);
      archived.push(...lines);
    }
    assert.equal(manifestRows, ROWS);
    assert.equal(new Set(archived).size, archived.length, 'no row archived twice');
    assert.deepEqual([...archived].sort(), [...expected].sort());
    t.diagnostic(`${dataKeys.length} objects, ${remainingAfterKills} rows left after two kills, ${recovered} manifests completed by recovery`);
  });
});
