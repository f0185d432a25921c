// Running a CLI entry point (`run*Cli(argv, io)`) inside the test process with its output captured.
import { PassThrough } from 'node:stream';

export interface CapturedStreams {
  stdout: PassThrough;
  stderr: PassThrough;
}

/** An io of `extra` (env, repoRoot, cwd, ...) plus captured stdout and stderr, read with out() and err(). */
export function capturedIo<X extends object>(extra: X): { io: CapturedStreams & X; out(): string; err(): string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  return { io: { ...extra, stdout, stderr }, out: () => out, err: () => err };
}

/** Runs a CLI entry point with `extra` and captured output; returns its exit code and what it printed. */
export async function runCaptured<X extends object>(
  run: (argv: string[], io: CapturedStreams & X) => Promise<number>,
  argv: string[],
  extra: X,
): Promise<{ code: number; out: string; err: string }> {
  const captured = capturedIo(extra);
  const code = await run(argv, captured.io);
  return { code, out: captured.out(), err: captured.err() };
}
