// The pipeline's small stages and helpers: Rebatch regroups without losing or reordering a byte, HoldEnd ends only when allowed, HoldLast never releases the
// last piece unless upstream ended cleanly, HashTap refuses to end on a mismatch; tool version parsing;
// backup keys and manifest validation.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HashTap, HoldEnd, HoldLast, Rebatch } from '../../../src/engines/backup/streams.ts';
import { backupKeys, defaultBackupId, parseManifest } from '../../../src/engines/backup/manifest.ts';
import { parseToolVersion, serverMajorOf } from '../../../src/adapters/pgdump/index.ts';
import { pgTargetFromUrl, pgToolEnv } from '../../../src/adapters/pgdump/target.ts';
import { isOperatorError } from '../../../src/errors.ts';

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const c of stream) out.push(c as Buffer);
  return out;
}

describe('pipeline stages', () => {
  it('Rebatch regroups pieces of any size into full batches and a shorter last one, counting every byte', async () => {
    const input = Buffer.from(Array.from({ length: 10_000 }, (_, i) => (i * 31) % 251));
    const pieces = [input.subarray(0, 1), input.subarray(1, 1000), input.subarray(1000, 1000), input.subarray(1000, 5096), input.subarray(5096)];
    const rebatch = new Rebatch(1024);
    // 'data' events, as pipe() delivers them (an async iterator would join what is buffered).
    const out: Buffer[] = [];
    rebatch.on('data', (b: Buffer) => out.push(b));
    await pipeline(Readable.from(pieces), rebatch);
    assert.deepEqual(out.map((b) => b.length), [...new Array<number>(9).fill(1024), 10_000 - 9 * 1024]);
    assert.ok(Buffer.concat(out).equals(input));
    assert.equal(rebatch.bytes, input.length);
    assert.deepEqual(await collect(Readable.from([Buffer.alloc(0)]).pipe(new Rebatch(1024))), []);
  });

  it('HoldEnd passes data but ends only after the condition resolves, and errors when it rejects', async () => {
    let allow!: () => void;
    const allowed = new Promise<void>((r) => (allow = r));
    const gate = new HoldEnd(() => allowed);
    const out = collect(gate);
    gate.end(Buffer.from('abc'));
    let ended = false;
    void out.then(() => (ended = true));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(ended, false);
    allow();
    assert.equal(Buffer.concat(await out).toString(), 'abc');

    const failing = new HoldEnd(async () => {
      throw new Error('pg_dump exited 1');
    });
    await assert.rejects(pipeline(Readable.from([Buffer.from('x')]), failing, new PassThrough()), /pg_dump exited 1/);
  });

  it('HoldLast releases the last chunk only at a clean end', async () => {
    const seen: string[] = [];
    const sink = new PassThrough();
    sink.on('data', (c: Buffer) => seen.push(c.toString()));
    const source = new PassThrough();
    const done = pipeline(source, new HoldLast(), sink);
    source.write('a');
    source.write('b');
    source.write('c');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(seen, ['a', 'b']);
    source.destroy(new Error('checksum mismatch upstream'));
    await assert.rejects(done);
    assert.deepEqual(seen, ['a', 'b'], 'the last piece was never released');
  });

  it('HashTap computes SHA-256 and errors with ChecksumMismatch on a wrong digest or size', async () => {
    const data = Buffer.from('hello world');
    const sha = createHash('sha256').update(data).digest('hex');
    const ok = new HashTap({ sha256: sha, size: data.length, where: 'x' });
    await pipeline(Readable.from([data]), ok, new PassThrough().resume());
    assert.equal(ok.sha256, sha);
    for (const expected of [{ sha256: '0'.repeat(64), size: data.length }, { sha256: sha, size: 3 }]) {
      await assert.rejects(pipeline(Readable.from([data]), new HashTap({ ...expected, where: 'x' }), new PassThrough().resume()), (e: unknown) => isOperatorError(e) && e.reason === 'ChecksumMismatch');
    }
  });
});

describe('pg tools and targets', () => {
  it('parses pg_dump --version output and server_version_num', () => {
    assert.deepEqual(parseToolVersion('pg_dump (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)\n'), { major: 15, version: '15.14' });
    assert.deepEqual(parseToolVersion('pg_restore (PostgreSQL) 18.3'), { major: 18, version: '18.3' });
    assert.equal(parseToolVersion('bash: pg_dump: not found'), undefined);
    assert.equal(serverMajorOf(150014), 15);
    assert.equal(serverMajorOf(180003), 18);
  });

  it('puts the password in PGPASSWORD, never argv, and drops the caller\'s PG* variables', () => {
    const t = pgTargetFromUrl('postgres://app:s%40cret@db.example:6543/lok?sslmode=require');
    assert.deepEqual(t, { host: 'db.example', port: 6543, user: 'app', password: 's@cret', database: 'lok', ssl: true });
    const env = pgToolEnv(t, { PATH: '/bin', PGSERVICE: 'other', PGPASSFILE: '/x' }, 'app');
    assert.equal(env['PGPASSWORD'], 's@cret');
    assert.equal(env['PGSERVICE'], undefined);
    assert.equal(env['PGPASSFILE'], undefined);
    assert.equal(env['PATH'], '/bin');
    assert.equal(env['PGSSLMODE'], 'require');
  });
});

describe('manifest and keys', () => {
  it('lays out keys per database and refuses unsafe ids', () => {
    assert.deepEqual(backupKeys('lokdarpan', '20260301T020000Z'), { data: 'lokdarpan/20260301T020000Z.dump.zst.age', manifest: 'lokdarpan/20260301T020000Z.manifest.json' });
    assert.equal(defaultBackupId(new Date('2026-03-01T02:00:00.123Z')), '20260301T020000Z');
    for (const bad of ['', '../etc', 'a/b', '.hidden', 'x'.repeat(129)]) assert.throws(() => backupKeys('db', bad), (e: unknown) => isOperatorError(e) && e.reason === 'InvalidRequest', bad);
  });

  it('rejects a manifest that is not JSON or not ours', () => {
    assert.throws(() => parseManifest(Buffer.from('{'), 'k'), (e: unknown) => isOperatorError(e) && e.reason === 'ManifestInvalid');
    assert.throws(() => parseManifest(Buffer.from('{"format":"other"}'), 'k'), (e: unknown) => isOperatorError(e) && e.reason === 'ManifestInvalid');
  });
});
