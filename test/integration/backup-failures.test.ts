// Every way a backup or restore can fail ends in a typed error, leaves no manifest (so nothing that
// looks like a completed backup), no open multipart upload, and no change to a restore target:
// unreachable destinations, pg_dump failing after it wrote its whole output, a wrong password, a server
// newer than pg_dump, a wrong key, corrupted and truncated objects, a missing manifest.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres, type PostgresServer, type TestDatabase } from '../env/postgres.ts';
import { startTwoRegions, type S3Server } from '../env/s3.ts';
import { freePort } from '../env/process.ts';
import { generateIdentity } from '../../src/adapters/age/index.ts';
import { pgBackupSource, type PgTarget } from '../../src/adapters/pgdump/index.ts';
import { S3ObjectStore } from '../../src/adapters/s3/index.ts';
import { serializeManifest, type BackupOptions, type BackupResult } from '../../src/engines/backup/index.ts';
import { runRestore } from '../../src/engines/restore/index.ts';
import { ManualClock } from '../../src/clock.ts';
import { isOperatorError } from '../../src/errors.ts';
import { adminTarget, backupTo, keysIn, noisyDatabase, openMultipartUploads, operatorErrorWith, startServers, storeOn } from './backup-fixture.ts';

const reason = operatorErrorWith;

describe('backup and restore failures', () => {
  const started: Parameters<typeof startServers>[0] = {};
  let pg: PostgresServer;
  let s3: { primary: S3Server; secondary: S3Server };
  let db: TestDatabase;
  let primary: S3ObjectStore;
  let replica: S3ObjectStore;
  let target: PgTarget;
  let dir = '';
  const key = generateIdentity();
  const clock = new ManualClock('2026-03-02T02:00:00Z');
  let good: BackupResult;

  const backup = (overrides: Partial<BackupOptions> = {}): Promise<BackupResult> => backupTo({ pg, target, primary, recipient: key.recipient, clock }, overrides);

  async function assertPrimaryHoldsOnlyTheGoodBackup(): Promise<void> {
    const keys = await keysIn(primary);
    assert.deepEqual(keys.filter((k) => !k.includes(good.id)), [], 'no object of a failed backup remains');
    assert.equal(await openMultipartUploads(primary), 0, 'no multipart upload left open');
  }

  before(async () => {
    ({ pg, s3 } = await startServers(started, () => startPostgres(), () => startTwoRegions()));
    await Promise.all([s3.primary.createBucket('backups'), s3.secondary.createBucket('dr-backups')]);
    primary = storeOn(s3.primary, 'primary', 'backups');
    replica = storeOn(s3.secondary, 'dr', 'dr-backups');
    // ~6.4 MB of incompressible data, so uploads go multipart (5 MiB parts) before they can fail.
    db = await noisyDatabase(pg, { rows: 1000, noiseRows: 100000 });
    target = adminTarget(pg, db.name);
    dir = await mkdtemp(join(tmpdir(), 'lokdarpan-backup-fail-'));
    good = await backup({ backupId: 'good' });
    assert.ok(good.manifest.encryptedBytes > 5 * 1024 * 1024, 'the fixture is larger than one part');
  });

  after(async () => {
    primary?.destroy();
    replica?.destroy();
    await Promise.allSettled([started.pg?.stop(), started.s3?.primary.stop(), started.s3?.secondary.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('an unreachable primary fails with DestinationUnreachable and stops pg_dump', async () => {
    const port = await freePort();
    const dead = new S3ObjectStore({ name: 'dead', bucket: 'backups', endpoint: `http://127.0.0.1:${port}`, forcePathStyle: true, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
    await assert.rejects(backup({ primary: dead, replicas: [replica], backupId: 'unreachable' }), reason('DestinationUnreachable'));
    assert.deepEqual(await keysIn(replica), [], 'nothing reached the replica');
    const { rows } = await pg.query<{ n: string }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE application_name LIKE 'lokdarpan-backup%'`);
    assert.equal(rows[0]?.n, '0', 'no pg_dump or snapshot session is left behind');
  });

  it('an unreachable replica is reported per destination; the primary backup completes', async () => {
    const port = await freePort();
    const dead = new S3ObjectStore({ name: 'dead', bucket: 'dr-backups', endpoint: `http://127.0.0.1:${port}`, forcePathStyle: true, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
    const r = await backup({ replicas: [dead], backupId: 'replica-down' });
    assert.equal(r.replicated, false);
    assert.equal(r.destinations[1]?.error?.reason, 'DestinationUnreachable');
    assert.deepEqual(r.manifest.destinations.map((d) => d.name), ['primary']);
    await primary.delete(r.manifestKey, clock.now());
    await primary.delete(r.destinations[0]!.key, clock.now());
  });

  it('pg_dump exiting non-zero after writing its whole output aborts the upload: DumpFailed, no manifest', async () => {
    const bin = join(dir, 'bin-fails-late');
    await mkdir(bin);
    await writeFile(
      join(bin, 'pg_dump'),
      `#!/bin/sh\n"${pg.binDir}/pg_dump" "$@" || exit $?\ncase "$1" in --version) exit 0;; esac\necho "pg_dump: error: simulated failure after the last byte" >&2\nexit 3\n`,
    );
    await chmod(join(bin, 'pg_dump'), 0o755);
    await assert.rejects(
      backup({ source: pgBackupSource(target, { binDirs: { [pg.major]: bin } }), replicas: [replica], backupId: 'dump-fails-late' }),
      (e: unknown) => reason('DumpFailed')(e) && /simulated failure/.test((e as Error).message),
    );
    await assertPrimaryHoldsOnlyTheGoodBackup();
    assert.deepEqual(await keysIn(replica), []);
    // The same with the replica written during the dump: neither destination completes an object.
    await assert.rejects(
      backup({ source: pgBackupSource(target, { binDirs: { [pg.major]: bin } }), replicas: [replica], backupId: 'dump-fails-late-tee', replicaMode: 'during' }),
      reason('DumpFailed'),
    );
    await assertPrimaryHoldsOnlyTheGoodBackup();
    assert.deepEqual(await keysIn(replica), []);
    assert.equal(await openMultipartUploads(replica), 0);
  });

  it('pg_dump with a wrong password fails with DumpFailed and leaves nothing', async () => {
    const good = pgBackupSource(target, { binDirs: { [pg.major]: pg.binDir } });
    const wrong = pgBackupSource({ ...target, password: 'not-the-password' }, { binDirs: { [pg.major]: pg.binDir } });
    await assert.rejects(
      backup({ source: { openSnapshot: () => good.openSnapshot(), startDump: (s) => wrong.startDump(s) }, backupId: 'wrong-password' }),
      (e: unknown) => reason('DumpFailed')(e) && !(e as Error).message.includes('not-the-password'),
    );
    await assertPrimaryHoldsOnlyTheGoodBackup();
  });

  it('a database it cannot log into fails with DatabaseUnavailable', async () => {
    await assert.rejects(backup({ source: pgBackupSource({ ...target, password: 'nope' }, { binDirs: { [pg.major]: pg.binDir } }), backupId: 'no-login' }), reason('DatabaseUnavailable'));
    await assertPrimaryHoldsOnlyTheGoodBackup();
  });

  it('cancelling during the dump and upload (operator shutting down) fails with Cancelled and leaves nothing', async () => {
    const real = pgBackupSource(target, { binDirs: { [pg.major]: pg.binDir } });
    const controller = new AbortController();
    const source = {
      openSnapshot: () => real.openSnapshot(),
      startDump: async (s: Parameters<typeof real.startDump>[0]) => {
        const started = await real.startDump(s);
        started.dump.stdout.once('data', () => setImmediate(() => controller.abort()));
        return started;
      },
    };
    await assert.rejects(backup({ source, replicas: [replica], backupId: 'cancelled', signal: controller.signal }), reason('Cancelled'));
    await assertPrimaryHoldsOnlyTheGoodBackup();
    assert.deepEqual(await keysIn(replica), []);
  });

  it('a server newer than every configured pg_dump fails with PgDumpTooOld', async () => {
    await assert.rejects(backup({ source: pgBackupSource(target, { binDirs: { 10: pg.binDir } }), backupId: 'too-old' }), reason('PgDumpTooOld'));
    await assertPrimaryHoldsOnlyTheGoodBackup();
  });

  describe('restore', () => {
    const restoreInto = (database: string, overrides: Partial<Parameters<typeof runRestore>[0]> = {}) =>
      runRestore({
        store: primary,
        manifestKey: good.manifestKey,
        identities: [key.identity],
        target: adminTarget(pg, database),
        createDatabase: true,
        binDirs: { [pg.major]: pg.binDir },
        ...overrides,
      });
    const databaseExists = async (name: string): Promise<boolean> =>
      (await pg.query<{ ok: boolean }>('SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS ok', [name])).rows[0]?.ok === true;
    const tablesIn = async (name: string): Promise<number> =>
      Number((await pg.query<{ n: string }>(`SELECT count(*) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' AND c.relkind = 'r'`, [], name)).rows[0]?.n);

    async function withTamperedObject(bytes: (original: Buffer) => Buffer, fixManifest: boolean, check: () => Promise<void>): Promise<void> {
      const original = await primary.getBuffer(good.destinations[0]!.key);
      const originalManifest = await primary.getBuffer(good.manifestKey);
      const tampered = bytes(original);
      await primary.put(good.destinations[0]!.key, tampered);
      if (fixManifest) {
        await primary.put(good.manifestKey, serializeManifest({ ...good.manifest, sha256: createHash('sha256').update(tampered).digest('hex'), encryptedBytes: tampered.length }));
      }
      try {
        await check();
      } finally {
        await primary.put(good.destinations[0]!.key, original);
        await primary.put(good.manifestKey, originalManifest);
      }
    }

    it('the good backup restores (control)', async () => {
      const r = await restoreInto('control_ok');
      assert.equal(r.rowCountCheck?.passed, true);
    });

    it('a wrong key fails with DecryptionFailed before any database is created', async () => {
      await assert.rejects(restoreInto('wrong_key', { identities: [generateIdentity().identity] }), reason('DecryptionFailed'));
      assert.equal(await databaseExists('wrong_key'), false);
    });

    // Corruption in the middle is caught by whichever check sees it first: age's per-chunk tag
    // (DecryptionFailed, "corrupted") before the end of the stream, or the SHA-256 at the end.
    it('a corrupted object fails (age tag or SHA-256) and the created database is dropped', async () => {
      await withTamperedObject((b) => {
        const c = Buffer.from(b);
        c[Math.floor(c.length / 2)] = (c[Math.floor(c.length / 2)] as number) ^ 0x40;
        return c;
      }, false, async () => {
        await assert.rejects(restoreInto('corrupted'), (e: unknown) => isOperatorError(e) && ['ChecksumMismatch', 'DecryptionFailed'].includes(e.reason) && /corrupt|SHA-256/.test(e.message));
        assert.equal(await databaseExists('corrupted'), false);
      });
    });

    it('a truncated object fails with ChecksumMismatch', async () => {
      await withTamperedObject((b) => b.subarray(0, b.length - 70_000), false, async () => {
        await assert.rejects(restoreInto('truncated'), reason('ChecksumMismatch'));
      });
    });

    it('corruption the manifest agrees with is still caught by age, and an existing empty target stays empty', async () => {
      await pg.query('CREATE DATABASE stays_empty TEMPLATE template0');
      for (const [name, tamper] of [
        ['corrupt-last-chunk', (b: Buffer) => { const c = Buffer.from(b); c[c.length - 5] = (c[c.length - 5] as number) ^ 1; return c; }],
        ['truncated-at-chunk-boundary', (b: Buffer) => b.subarray(0, b.length - ((b.length - 200) % (65536 + 16)))],
      ] as const) {
        await withTamperedObject(tamper, true, async () => {
          await assert.rejects(restoreInto('stays_empty'), reason('DecryptionFailed'), name);
        });
        assert.equal(await tablesIn('stays_empty'), 0, `${name}: pg_restore committed nothing`);
      }
    });

    it('a missing manifest fails with ManifestMissing', async () => {
      await assert.rejects(restoreInto('no_manifest', { manifestKey: primary.key('lokdarpan/never.manifest.json') }), reason('ManifestMissing'));
      assert.equal(await databaseExists('no_manifest'), false);
    });
  });
});
