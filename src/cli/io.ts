import { parseArgs, type ParseArgsConfig } from 'node:util';
import { describeError } from '../errors.ts';

// What every CLI command gets: its output streams, its environment and where the repository is.
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  repoRoot: string;
}

export const EXIT = { ok: 0, failure: 1, usage: 2, busy: 3 } as const;

/**
 * Parses a command's arguments the way every command here does: a parse error prints `name: error` and
 * the usage to stderr (exit 2), `--help` prints the usage to stdout (exit 0). Returns the parsed values,
 * or the exit code when the command is already answered.
 */
export function parseCommandLine<T extends ParseArgsConfig>(
  io: Pick<CliIo, 'stdout' | 'stderr'>,
  name: string,
  usage: string,
  config: T,
): ReturnType<typeof parseArgs<T>> | number {
  let parsed: ReturnType<typeof parseArgs<T>>;
  try {
    parsed = parseArgs(config);
  } catch (error) {
    io.stderr.write(`${name}: ${describeError(error)}\n\n${usage}`);
    return EXIT.usage;
  }
  if ((parsed.values as { help?: unknown }).help === true) {
    io.stdout.write(usage);
    return EXIT.ok;
  }
  return parsed;
}
