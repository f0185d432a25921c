// Process and port helpers shared by the test environment parts: free loopback ports, child processes
// with their output in a log file, readiness polling, and a stop that escalates SIGTERM -> SIGKILL.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createServer } from 'node:net';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir, homedir } from 'node:os';
import { join } from 'node:path';

/** Where built tools and downloaded artifacts live: outside the repository, kept across runs. */
export const cacheDir = process.env['LOKDARPAN_CACHE'] ?? join(homedir(), '.cache', 'lokdarpan-operator');

/** The repository root (test/env/ is two levels below it). */
export const repoRoot = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');

export async function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(join(process.env['LOKDARPAN_TMP'] ?? tmpdir(), `lokdarpan-${prefix}-`));
}

/** A free TCP port on 127.0.0.1 (bound, read, released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not read a free port'));
      });
    });
  });
}

/** A base port P such that P..P+span-1 are all free right now. */
export async function freePortRange(span: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 40000);
    let ok = true;
    for (let p = base; p < base + span && ok; p++) ok = await isPortFree(p);
    if (ok) return base;
  }
  throw new Error(`no free range of ${span} ports found`);
}

/** Whether nothing listens on 127.0.0.1:`port` (a listen there succeeds). */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logFile: string;
  /** The last lines of the log, for error messages. */
  tail(lines?: number): string;
  /** SIGTERM, wait up to graceMs, then SIGKILL. Resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
  readonly exited: Promise<number | null>;
}

export function startProcess(
  name: string,
  command: string,
  args: string[],
  logFile: string,
  options: SpawnOptions = {},
): ManagedProcess {
  const fd = openSync(logFile, 'a');
  const child = spawn(command, args, { ...options, stdio: ['ignore', fd, fd], detached: false });
  closeSync(fd);
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
    child.once('error', () => resolve(-1));
  });
  const tail = (lines = 30): string => {
    try {
      return readFileSync(logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  };
  const stop = async (graceMs = 10_000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return { name, child, logFile, tail, stop, exited };
}
