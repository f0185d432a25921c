// Progress of running backups and restores: the measurements, the sampler the engines run while data
// streams, the status writes it turns into (one in flight, newest wins, none after the run), and the
// line that describes it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { generateIdentity } from '../../../src/adapters/age/index.ts';
import { measureTransfer, runBackup, type BackupSource, type DumpSnapshot, type TransferSample } from '../../../src/engines/backup/index.ts';
import { ManualClock, systemClock } from '../../../src/clock.ts';
import { describeProgress, type TransferProgress } from '../../../src/api/progress.ts';
import { progressOf, statusProgressReporter } from '../../../src/controllers/backup/progress-status.ts';
import { MemoryStore } from './fakes.ts';

describe('measureTransfer', () => {
  it('gives the average rate and, below a known total, the time left', () => {
    assert.deepEqual(measureTransfer(50_000_000, 10_000, 200_000_000), { bytes: 50_000_000, elapsedMs: 10_000, bytesPerSecond: 5_000_000, totalBytes: 200_000_000, etaMs: 30_000 });
    assert.deepEqual(measureTransfer(50_000_000, 10_000), { bytes: 50_000_000, elapsedMs: 10_000, bytesPerSecond: 5_000_000 });
    // An estimate that was passed is dropped, not shown as 120 %.
    assert.deepEqual(measureTransfer(240, 1_000, 200), { bytes: 240, elapsedMs: 1_000, bytesPerSecond: 240 });
    assert.deepEqual(measureTransfer(0, 0, 200), { bytes: 0, elapsedMs: 0, bytesPerSecond: 0, totalBytes: 200 });
  });

  it('becomes status.progress and one readable line', () => {
    const p = progressOf(measureTransfer(1.2 * 1024 ** 3, 100_000, 3 * 1024 ** 3), new Date('2026-12-05T00:00:00Z'));
    assert.deepEqual({ ...p, bytesPerSecond: undefined }, {
      bytes: 1.2 * 1024 ** 3, totalBytes: 3 * 1024 ** 3, percent: 40, bytesPerSecond: undefined, elapsedSeconds: 100, etaSeconds: 150, updateTime: '2026-12-05T00:00:00.000Z',
    });
    assert.equal(describeProgress(p), '1.2 GiB of ~3.0 GiB (40%), 12.3 MiB/s, 1m 40s elapsed, about 2m 30s left');
    assert.equal(describeProgress({ bytes: 512, bytesPerSecond: 51, elapsedSeconds: 10, updateTime: '' }), '512 B, 51 B/s, 10s elapsed');
  });
});

/** A source whose "pg_dump" trickles `chunks` chunks, one per `everyMs`, so the dump takes a while. */
function tricklingSource(chunks: number, everyMs: number, estimatedDumpBytes?: number): BackupSource {
  const snapshot: DumpSnapshot = {
    database: 'slow', serverVersion: '15.14', serverVersionNum: 150014, serverMajor: 15, schemaVersion: undefined,
    ...(estimatedDumpBytes === undefined ? {} : { estimatedDumpBytes }),
    countRows: async () => [],
    close: async () => undefined,
  };
  return {
    openSnapshot: async () => snapshot,
    startDump: async () => {
      const stdout = new PassThrough();
      let finish: () => void = () => undefined;
      const exited = new Promise<void>((resolve) => (finish = resolve));
      let sent = 0;
      const timer = setInterval(() => {
        stdout.write(randomBytes(10_000));
        if (++sent === chunks) {
          clearInterval(timer);
          stdout.end();
          setTimeout(finish, 5);
        }
      }, everyMs);
      return { dump: { stdout, exited, kill: () => clearInterval(timer) }, toolVersion: '15.14', toolMajor: 15 };
    },
  };
}

describe('runBackup progress', () => {
  it('reports the pg_dump bytes while the dump streams, against the estimate, and nothing after it returns', async () => {
    const samples: TransferSample[] = [];
    const key = generateIdentity();
    await runBackup({
      source: tricklingSource(30, 15, 400_000),
      primary: new MemoryStore('primary'),
      recipients: [key.recipient],
      clock: systemClock,
      onProgress: (s) => samples.push(s),
      progressIntervalMs: 20,
    });
    const reported = samples.length;
    assert.ok(reported >= 3, `only ${reported} progress reports over a ~450 ms dump`);
    const bytes = samples.map((s) => s.bytes);
    assert.deepEqual(bytes, [...bytes].sort((a, b) => a - b), 'bytes never go down');
    assert.ok(bytes.at(-1)! > bytes[0]!, `bytes grew: ${bytes.join(', ')}`);
    assert.ok(samples.every((s) => s.bytes > 300_000 || s.totalBytes === 400_000), 'the estimate is reported until passed');
    assert.ok(samples.some((s) => s.bytesPerSecond > 0 && s.etaMs !== undefined));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(samples.length, reported, 'no report after the backup returned');
  });

  it('a throwing listener does not fail the backup', async () => {
    const key = generateIdentity();
    const r = await runBackup({
      source: tricklingSource(5, 10),
      primary: new MemoryStore('primary'),
      recipients: [key.recipient],
      clock: systemClock,
      onProgress: () => {
        throw new Error('status write failed');
      },
      progressIntervalMs: 5,
    });
    assert.equal(r.manifest.plainBytes, 50_000);
  });
});

describe('statusProgressReporter', () => {
  const sample = (bytes: number): TransferSample => ({ bytes, elapsedMs: 1000, bytesPerSecond: bytes });

  it('writes one at a time, the newest waiting sample wins, and nothing after settle', async () => {
    const written: number[] = [];
    const releases: Array<() => void> = [];
    const reporter = statusProgressReporter(
      (p: TransferProgress) =>
        new Promise<void>((resolve) => {
          written.push(p.bytes);
          releases.push(resolve);
        }),
      new ManualClock('2026-12-05T00:00:00Z'),
    );
    reporter.onProgress(sample(1));
    reporter.onProgress(sample(2)); // waits behind 1 ...
    reporter.onProgress(sample(3)); // ... and is replaced by 3
    assert.deepEqual(written, [1]);
    releases.shift()!();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(written, [1, 3]);
    const settled = reporter.settle();
    reporter.onProgress(sample(4));
    let done = false;
    void settled.then(() => (done = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(done, false, 'settle waits for the write in flight');
    releases.shift()!();
    await settled;
    assert.deepEqual(written, [1, 3], 'nothing written after settle');
  });

  it('a failed write is reported and the next sample is still written', async () => {
    const errors: unknown[] = [];
    const written: number[] = [];
    let fail = true;
    const reporter = statusProgressReporter(
      async (p) => {
        if (fail) {
          fail = false;
          throw new Error('conflict');
        }
        written.push(p.bytes);
      },
      new ManualClock('2026-12-05T00:00:00Z'),
      (e) => errors.push(e),
    );
    reporter.onProgress(sample(1));
    await new Promise((r) => setImmediate(r));
    reporter.onProgress(sample(2));
    await reporter.settle();
    assert.equal(errors.length, 1);
    assert.deepEqual(written, [2]);
  });
});
