#!/usr/bin/env node
// The one entry point: `lokdarpan <command>` (also `kubectl lokdarpan <command>` when installed as
// kubectl-lokdarpan on PATH). Each command lives in its own module and is loaded on demand.
import type { CliIo } from './io.ts';
import { EXIT } from './io.ts';

type Command = { summary: string; run: (argv: string[], io: CliIo) => Promise<number> };

const commands: Record<string, Command> = {
  local: {
    summary: 'the operator against the current cluster (the embedded local setup: bash scripts/start.sh in a clone)',
    run: async (argv, io) => (await import('./local.ts')).runLocalCli(argv, io),
  },
  operator: {
    summary: 'run the operator (controllers for every resource kind) against the current kubeconfig',
    run: async (argv, io) => (await import('./operator.ts')).runOperatorCli(argv, io),
  },
  migrate: {
    summary: 'status|plan|up|down|repair the LokDarpan schema of a database',
    run: async (argv, io) => (await import('./migrate.ts')).runMigrateCli(argv, io),
  },
  retention: {
    summary: 'plan|run row retention rules (delete, archive, mark expired rows in small batches)',
    run: async (argv, io) => (await import('./retention.ts')).runRetentionCli(argv, io),
  },
  seed: {
    summary: 'fill a database with deterministic synthetic LokDarpan data (wards, posts, embeddings, ...)',
    run: async (argv, io) => (await import('./seed.ts')).runSeedCli(argv, io),
  },
  status: {
    summary: 'summary of LokdarpanDatabases, their backups, retention and restores in the cluster',
    run: async (argv, io) => (await import('./plugin.ts')).runStatus(argv, io),
  },
  backup: {
    summary: 'POLICY: on-demand Backup in the cluster (--wait); with --bucket/--config: run the backup engine directly',
    run: async (argv, io) => {
      const plugin = await import('./plugin.ts');
      return plugin.isClusterForm(argv) ? plugin.runBackupNow(argv, io) : (await import('./backup.ts')).runBackupCli(['backup', ...argv], io);
    },
  },
  restore: {
    summary: 'BACKUP: create a Restore in the cluster (--wait); with --bucket/--config: run the restore engine directly',
    run: async (argv, io) => {
      const plugin = await import('./plugin.ts');
      return plugin.isClusterForm(argv) ? plugin.runRestoreNow(argv, io) : (await import('./backup.ts')).runBackupCli(['restore', ...argv], io);
    },
  },
  refresh: {
    summary: "NAME: refresh a LokdarpanDatabase's materialized views now (--wait)",
    run: async (argv, io) => (await import('./plugin.ts')).runRefresh(argv, io),
  },
  validate: {
    summary: "NAME: run a LokdarpanDatabase's performance validation now (--wait)",
    run: async (argv, io) => (await import('./plugin.ts')).runValidate(argv, io),
  },
  'retention-run': {
    summary: 'NAME: run a RetentionPolicy now (--wait)',
    run: async (argv, io) => (await import('./plugin.ts')).runRetentionRun(argv, io),
  },
  backups: {
    summary: 'list|verify|prune the backups stored in a bucket (backup engine, no cluster needed)',
    run: async (argv, io) => (await import('./backup.ts')).runBackupCli(['backups', ...argv], io),
  },
  docs: {
    summary: 'generate|check|print docs/reference/crds.md and the reason tables of the docs',
    run: async (argv, io) => (await import('./docs.ts')).runDocsCli(argv, io),
  },
  crds: {
    summary: 'generate|check|print the CustomResourceDefinitions from the API schemas',
    run: async (argv, io) => (await import('./crds.ts')).runCrdsCli(argv, io),
  },
};

export function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: lokdarpan <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun \`lokdarpan <command> --help\` for a command's options.\nExit codes: 0 ok, 1 failure, 2 usage error, 3 busy (lock held).\n`;
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(usage());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = commands[name];
  if (!command) {
    io.stderr.write(`unknown command "${name}"\n\n${usage()}`);
    return EXIT.usage;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    io.stderr.write(`${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.failure;
  }
}

if (import.meta.main) {
  const repoRoot = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');
  const code = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, repoRoot });
  process.exitCode = code;
}
