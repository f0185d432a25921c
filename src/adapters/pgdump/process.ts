// pg_dump and pg_restore as child processes: custom format on stdout / stdin, connection settings in
// the environment, the exit status as a promise that rejects with a typed error and stderr's tail.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { OperatorError } from '../../errors.ts';
import { PgDumpReasons } from './reasons.ts';
import { pgToolEnv, type PgTarget } from './target.ts';
import type { PgTool } from './binaries.ts';
import type { Reason } from '../../reasons/index.ts';

const STDERR_KEEP = 16 * 1024;

export interface ToolProcess {
  readonly child: ChildProcess;
  /** Resolves when the tool exited 0; rejects with DumpFailed / RestoreFailed otherwise. */
  readonly exited: Promise<void>;
  /** stderr collected so far (last 16 KiB). */
  stderr(): string;
  kill(signal?: NodeJS.Signals): void;
}

export interface DumpProcess extends ToolProcess {
  readonly stdout: Readable;
}

export interface RestoreProcess extends ToolProcess {
  readonly stdin: Writable;
}

function lastLines(text: string, lines = 3): string {
  return text.trim().split('\n').slice(-lines).join(' | ');
}

function supervise(child: ChildProcess, tool: PgTool, reason: Reason): ToolProcess {
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP);
  });
  const exited = new Promise<void>((resolve, reject) => {
    child.once('error', (error) => {
      reject(new OperatorError(reason, `${tool.name} could not run (${tool.path}): ${error.message}`, { cause: error }));
    });
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else {
        const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
        reject(new OperatorError(reason, `${tool.name} ${how}${stderr.trim() === '' ? '' : `: ${lastLines(stderr)}`}`, { details: { code, signal } }));
      }
    });
  });
  exited.catch(() => undefined); // observed by the caller; never an unhandled rejection
  return {
    child,
    exited,
    stderr: () => stderr,
    kill: (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

export interface DumpOptions {
  tool: PgTool;
  target: PgTarget;
  /** An exported snapshot (pg_export_snapshot()) to dump, consistent with row counts taken in it. */
  snapshot?: string;
  /** More pg_dump arguments (e.g. --exclude-table-data=...). */
  extraArgs?: readonly string[];
  /**
   * --lock-wait-timeout: how long pg_dump waits for each table's ACCESS SHARE lock before it fails
   * (instead of queueing behind a long ALTER TABLE and blocking every query queued after it).
   * Default DEFAULT_LOCK_WAIT_TIMEOUT_MS; 0 waits forever.
   */
  lockWaitTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export const DEFAULT_LOCK_WAIT_TIMEOUT_MS = 60_000;

/** The pg_dump arguments of a custom-format dump to stdout. */
export function pgDumpArgs(options: Pick<DumpOptions, 'snapshot' | 'extraArgs' | 'lockWaitTimeoutMs'>): string[] {
  const args = ['--format=custom', '--compress=0', '--no-password'];
  const lockWait = options.lockWaitTimeoutMs ?? DEFAULT_LOCK_WAIT_TIMEOUT_MS;
  if (!Number.isInteger(lockWait) || lockWait < 0) {
    throw new OperatorError(PgDumpReasons.DumpFailed, `lock wait timeout ${lockWait} ms is not a whole number of milliseconds >= 0`, { terminal: true });
  }
  if (lockWait > 0) args.push(`--lock-wait-timeout=${lockWait}ms`);
  if (options.snapshot !== undefined) args.push(`--snapshot=${options.snapshot}`);
  args.push(...(options.extraArgs ?? []));
  return args;
}

let stdbuf: string | null | undefined;

/** coreutils' stdbuf on PATH (null: none), looked up once. */
function findStdbuf(): string | null {
  if (stdbuf === undefined) {
    stdbuf = null;
    for (const dir of (process.env['PATH'] ?? '').split(delimiter).filter((d) => d !== '')) {
      try {
        accessSync(join(dir, 'stdbuf'), constants.X_OK);
        stdbuf = join(dir, 'stdbuf');
        break;
      } catch {
        // not in this directory
      }
    }
  }
  return stdbuf;
}

/**
 * `pg_dump --format=custom --compress=0` writing to stdout (never -f: PG15 cannot fsync /dev/stdout).
 * Through `stdbuf -o1M` where coreutils has it: pg_dump writes its archive with stdio, whose buffer
 * on a pipe is 4 KiB, and every write is a wake-up and a read for us (~90,000 a GiB, 1.8 of the
 * pipeline's CPU-seconds measured); with a 1 MiB buffer the reads are a fifth of that and full size.
 */
export function spawnPgDump(options: DumpOptions): DumpProcess {
  const args = pgDumpArgs(options);
  const wrapper = findStdbuf();
  const child = spawn(wrapper ?? options.tool.path, wrapper === null ? args : ['-o1M', options.tool.path, ...args], {
    env: pgToolEnv(options.target, options.env ?? process.env, 'lokdarpan-backup'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const supervised = supervise(child, options.tool, PgDumpReasons.DumpFailed);
  return { ...supervised, stdout: child.stdout as Readable };
}

export interface RestoreOptions {
  tool: PgTool;
  target: PgTarget;
  /** Drop objects before recreating them (--clean --if-exists): only for an explicit overwrite. */
  clean?: boolean;
  /** All in one transaction (default true): a failed or interrupted restore leaves nothing behind. */
  singleTransaction?: boolean;
  /** --no-owner (default true): objects belong to the restoring role. */
  noOwner?: boolean;
  /** --no-acl (default true): no GRANTs to roles that may not exist on the target. */
  noAcl?: boolean;
  extraArgs?: readonly string[];
  env?: NodeJS.ProcessEnv;
}

function conninfoQuote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** `pg_restore` reading a custom-format archive from stdin into the target database. */
export function spawnPgRestore(options: RestoreOptions): RestoreProcess {
  const args = ['--no-password', '--exit-on-error', `--dbname=dbname=${conninfoQuote(options.target.database)}`];
  if (options.singleTransaction ?? true) args.push('--single-transaction');
  if (options.clean === true) args.push('--clean', '--if-exists');
  if (options.noOwner ?? true) args.push('--no-owner');
  if (options.noAcl ?? true) args.push('--no-acl');
  args.push(...(options.extraArgs ?? []));
  const child = spawn(options.tool.path, args, {
    env: pgToolEnv(options.target, options.env ?? process.env, 'lokdarpan-restore'),
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  const supervised = supervise(child, options.tool, PgDumpReasons.RestoreFailed);
  return { ...supervised, stdin: child.stdin as Writable };
}
