// What every CLI command gets: its output streams, its environment and where the repository is.
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  repoRoot: string;
}

export const EXIT = { ok: 0, failure: 1, usage: 2, busy: 3 } as const;
