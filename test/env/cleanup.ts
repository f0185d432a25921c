// Last-resort cleanup for servers the test environment started: when the test process exits (or is
// interrupted by SIGINT/SIGTERM/SIGHUP) without calling their stop(), their processes are killed and
// their temp dirs removed, so an aborted run leaves no postgres or weed behind.
import { readFileSync } from 'node:fs';

const entries = new Set<() => void>();
let installed = false;

function runAll(): void {
  for (const entry of [...entries]) {
    entries.delete(entry);
    try {
      entry();
    } catch {
      // best effort
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.once('exit', runAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      runAll();
      // Keep the default behaviour (terminate) unless someone else also handles this signal.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.once(signal, onSignal);
  }
}

/**
 * Blocks until process `pid` has exited (gone, or a zombie waiting to be reaped) or `timeoutMs` passed.
 * For use in exit handlers, where nothing asynchronous runs any more. Returns whether it exited.
 */
export function waitForExitSync(pid: number, timeoutMs: number): boolean {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let state: string | undefined;
    try {
      state = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0];
    } catch {
      return true; // no such process
    }
    if (state === 'Z' || state === 'X') return true;
    if (Date.now() > deadline) return false;
    Atomics.wait(sleeper, 0, 0, 20);
  }
}

/** Registers a synchronous kill-and-remove; returns a function that unregisters it (after stop()). */
export function registerCleanup(kill: () => void): () => void {
  install();
  entries.add(kill);
  return () => {
    entries.delete(kill);
  };
}
