// `lokdarpan backup | restore | backups list|verify|prune` (runBackupCli) against real PostgreSQL and S3:
// a config file with a replica whose credentials come from other variables, human and JSON output,
// exit codes 0 / 1 / 2.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres, type PostgresServer, type TestDatabase } from '../env/postgres.ts';
import { startTwoRegions, type S3Server } from '../env/s3.ts';
import { generateIdentity } from '../../src/adapters/age/index.ts';
import { runBackupCli } from '../../src/cli/backup.ts';
import { runCaptured } from '../cli-io.ts';
import { fillDatabase, rowCounts, startServers } from './backup-fixture.ts';

describe('backup CLI', () => {
  const started: Parameters<typeof startServers>[0] = {};
  let pg: PostgresServer;
  let s3: { primary: S3Server; secondary: S3Server };
  let db: TestDatabase;
  let dir = '';
  let env: Record<string, string> = {};
  const key = generateIdentity();

  before(async () => {
    ({ pg, s3 } = await startServers(started, () => startPostgres(), () => startTwoRegions()));
    await Promise.all([s3.primary.createBucket('cli-backups'), s3.secondary.createBucket('cli-dr')]);
    db = await pg.createDatabase({ withVector: !pg.withoutVector, withOwnerRole: false });
    await fillDatabase(pg, db, { vector: !pg.withoutVector, rows: 500 });
    dir = await mkdtemp(join(tmpdir(), 'lokdarpan-backup-cli-'));
    const a = s3.primary.connection();
    const b = s3.secondary.connection();
    await writeFile(
      join(dir, 'backup.yaml'),
      [
        'database: lokdarpan',
        `recipients: [${key.recipient}]`,
        'destination:',
        `  {name: primary, bucket: cli-backups, prefix: prod, endpoint: "${a.endpoint}", forcePathStyle: true, checksums: WHEN_REQUIRED}`,
        'replicas:',
        `  - {name: dr, bucket: cli-dr, endpoint: "${b.endpoint}", forcePathStyle: true, checksums: WHEN_REQUIRED, accessKeyIdEnv: DR_KEY, secretAccessKeyEnv: DR_SECRET}`,
        '',
      ].join('\n'),
    );
    await writeFile(join(dir, 'key.txt'), `${key.identity}\n`, { mode: 0o600 });
    env = {
      ...pg.cliEnv(db.name),
      AWS_ACCESS_KEY_ID: a.accessKeyId,
      AWS_SECRET_ACCESS_KEY: a.secretAccessKey,
      DR_KEY: b.accessKeyId,
      DR_SECRET: b.secretAccessKey,
    };
  });

  after(async () => {
    await Promise.allSettled([started.pg?.stop(), started.s3?.primary.stop(), started.s3?.secondary.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('backs up to the destination and the replica, lists, verifies, restores, prunes', async () => {
    const pgBin = `--pg-bin=${pg.major}=${pg.binDir}`;
    const backup = await runCaptured(runBackupCli, ['backup', '--config', 'backup.yaml', '--id', 'first', pgBin], { env, cwd: dir });
    assert.equal(backup.code, 0, backup.err);
    assert.match(backup.out, /backup first of lokdarpan/);
    assert.match(backup.out, /primary\s+verified/);
    assert.match(backup.out, /dr\s+verified/);

    const second = await runCaptured(runBackupCli, ['backup', '--config', 'backup.yaml', '--id', 'second', pgBin, '--json'], { env, cwd: dir });
    assert.equal(second.code, 0, second.err);
    assert.equal(JSON.parse(second.out).replicated, true);

    const list = await runCaptured(runBackupCli, ['backups', 'list', '--config', 'backup.yaml', '--json'], { env, cwd: dir });
    assert.equal(list.code, 0, list.err);
    assert.deepEqual(JSON.parse(list.out).backups.map((b: { id: string }) => b.id).sort(), ['first', 'second']);

    const verify = await runCaptured(runBackupCli, ['backups', 'verify', '--config', 'backup.yaml', '--backup', 'first', '--identity-file', 'key.txt'], { env, cwd: dir });
    assert.equal(verify.code, 0, verify.err);
    assert.match(verify.out, /SHA-256 matches.*decrypted/);
    const drList = await runCaptured(runBackupCli, ['backups', 'list', '--config', 'backup.yaml', '--destination', 'dr'], { env, cwd: dir });
    assert.equal(drList.code, 0, drList.err);
    assert.match(drList.out, /^first .*primary,dr/m);

    const restore = await runCaptured(runBackupCli, ['restore', '--config', 'backup.yaml', '--latest', '--identity-file', 'key.txt', '--create', pgBin, '--target-url', pg.url(pg.superuser.user, pg.superuser.password, 'cli_restored')], { env, cwd: dir });
    assert.equal(restore.code, 0, restore.err);
    assert.match(restore.out, /restored backup second into cli_restored \(created\)/);
    assert.doesNotMatch(restore.out, /warning:/, 'a superuser re-applies every database setting');
    assert.deepEqual(await rowCounts(pg, 'cli_restored'), await rowCounts(pg, db.name));

    const refused = await runCaptured(runBackupCli, ['restore', '--config', 'backup.yaml', '--backup', 'first', '--identity-file', 'key.txt', pgBin, '--target-url', pg.url(pg.superuser.user, pg.superuser.password, 'cli_restored')], { env, cwd: dir });
    assert.equal(refused.code, 1);
    assert.match(refused.err, /TargetNotEmpty/);

    const dry = await runCaptured(runBackupCli, ['backups', 'prune', '--config', 'backup.yaml', '--keep-last', '1', '--dry-run'], { env, cwd: dir });
    assert.equal(dry.code, 0, dry.err);
    assert.match(dry.out, /delete\s+first .*would delete/);
    const prune = await runCaptured(runBackupCli, ['backups', 'prune', '--config', 'backup.yaml', '--keep-last', '1'], { env, cwd: dir });
    assert.equal(prune.code, 0, prune.err);
    const after = await runCaptured(runBackupCli, ['backups', 'list', '--config', 'backup.yaml'], { env, cwd: dir });
    assert.match(after.out, /^second /m);
    assert.doesNotMatch(after.out, /^first /m);
  });

  it('reports usage errors with exit code 2', async () => {
    const noDest = await runCaptured(runBackupCli, ['backup', '--recipient', key.recipient], { env, cwd: dir });
    assert.equal(noDest.code, 2);
    assert.match(noDest.err, /destination is required/);
    assert.equal((await runCaptured(runBackupCli, ['backups', 'frobnicate'], { env, cwd: dir })).code, 2);
    assert.equal((await runCaptured(runBackupCli, ['backup', '--config', 'backup.yaml', '--zstd-level', 'high'], { env, cwd: dir })).code, 2);
    assert.equal((await runCaptured(runBackupCli, ['backups', 'prune', '--config', 'backup.yaml'], { env, cwd: dir })).code, 2, 'prune without rules');
    assert.equal((await runCaptured(runBackupCli, ['restore', '--config', 'backup.yaml', '--latest'], { env, cwd: dir })).code, 2, 'no identity file');
    const badKey = await runCaptured(runBackupCli, ['backup', '--config', 'backup.yaml', '--recipient', 'age1nope'], { env, cwd: dir });
    assert.equal(badKey.code, 1);
    assert.match(badKey.err, /InvalidKey/);
  });
});
