// The pipeline stages report the bytes they stream; every SCAVENGE_EVERY_BYTES of them a
// young-generation collection runs (the process's gc() when node was started with --expose-gc).
// Its own file: the collector is looked up once per process.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

describe('scavenges while streaming', () => {
  it('one minor collection per SCAVENGE_EVERY_BYTES streamed through a HashTap, counted across streams', async () => {
    const calls: unknown[] = [];
    const previous = (globalThis as { gc?: unknown }).gc;
    (globalThis as { gc?: unknown }).gc = (options: unknown) => calls.push(options);
    try {
      const { SCAVENGE_EVERY_BYTES } = await import('../../../src/engines/backup/scavenge.ts');
      const { HashTap } = await import('../../../src/engines/backup/streams.ts');
      const piece = Buffer.alloc(SCAVENGE_EVERY_BYTES / 4);
      await pipeline(Readable.from(new Array<Buffer>(11).fill(piece)), new HashTap(), async function* (source) {
        for await (const _ of source) yield* [];
      });
      assert.deepEqual(calls, [{ type: 'minor' }, { type: 'minor' }]);
      await pipeline(Readable.from([piece]), new HashTap(), async function* (source) {
        for await (const _ of source) yield* [];
      });
      assert.deepEqual(calls, [{ type: 'minor' }, { type: 'minor' }, { type: 'minor' }]);
    } finally {
      (globalThis as { gc?: unknown }).gc = previous;
    }
  });
});
