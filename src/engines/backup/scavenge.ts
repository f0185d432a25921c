// Streamed buffers die young, but V8 frees a Buffer's memory only when a GC finds its small JS object
// dead, and memory outside the JS heap triggers a GC only after about 64 MB more of it: a pipeline
// that moves hundreds of MB/s through fresh buffers (pg_dump's 64 KiB pipe reads, zstd and cipher
// output, HTTP response chunks) carries ~64 MB of dead buffers at any time (measured: arrayBuffers
// peak 71 MB for ~7 MB live). A young-generation collection (a scavenge: well under a millisecond,
// it visits only live young objects) after every few MiB streamed keeps that to a few MiB.
// A buffer still alive at two of them is promoted and waits for a mark-compact instead: the stages
// keep their buffers short-lived (engine.ts, ZSTD_INPUT_BATCH).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = (options?: { type?: 'major' | 'minor'; execution?: 'sync' | 'async' }) => void;

/** Bytes streamed (counted at every stage that reports them) between two scavenges. */
export const SCAVENGE_EVERY_BYTES = 2 * 1024 * 1024;

let gc: Gc | undefined;
let since = 0;

function collector(): Gc {
  if (gc === undefined) {
    const exposed = (globalThis as { gc?: Gc }).gc;
    if (typeof exposed === 'function') gc = exposed;
    else {
      // Node's documented v8.setFlagsFromString at run time: only contexts created afterwards get gc().
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as Gc;
    }
  }
  return gc;
}

/** Reports `bytes` streamed through a stage; runs a scavenge once SCAVENGE_EVERY_BYTES have passed (process-wide). */
export function streamed(bytes: number): void {
  since += bytes;
  if (since < SCAVENGE_EVERY_BYTES) return;
  since = 0;
  collector()({ type: 'minor' });
}
