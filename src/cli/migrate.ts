// `lokdarpan migrate status|plan|up|down|repair`: the migration engine from the command line, against
// --database-url or the PG* variables. Human output by default, --json for machines.
// Exit codes: 0 ok, 1 failure, 2 usage, 3 migration lock busy.
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { connectionSettingsFrom, createConnector } from '../adapters/postgres/connection.ts';
import { describeError, isOperatorError } from '../errors.ts';
import { createLogger } from '../observability/logger.ts';
import {
  cliInstance,
  createMigrationEngine,
  lokdarpanAdopters,
  type HistoryRow,
  type MigrationPlan,
  type MigrationResult,
  type MigrationStatus,
  type PlannedMigration,
  type RepairResult,
} from '../engines/migrations/index.ts';
import { EXIT, parseCommandLine } from './io.ts';

export interface MigrateIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv | Readonly<Record<string, string | undefined>>;
  repoRoot?: string;
}

export const MIGRATE_USAGE = `usage: lokdarpan migrate <command> [options]

commands:
  status                       applied, pending and drifted migrations
  plan [--to NAME]             what up (or down, when NAME is below the current version) would run, with its hash
  up [--to NAME]               apply pending migrations up to NAME (default: latest)
  down --to NAME|none --allow-downgrade
                               revert applied migrations above NAME ("none": all of them)
  repair [--remove-missing]    re-record checksums of edited applied files (and drop rows of deleted files)

options:
  --database-url URL           target database (default: DATABASE_URL, else PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE)
  --migrations-dir DIR         default: the repository's migrations/
  --approve HASH               up/down only run when the plan's hash equals HASH
  --lock-wait DURATION         how long to wait for another runner's lock (default 60s; 0 = fail fast)
  --lock-timeout DURATION      lock_timeout of each step (default 5s)
  --statement-timeout DURATION statement_timeout of each step (default 15min)
  --instance NAME              recorded as applied_by (default cli:<user>@<host>)
  --json                       machine-readable output
  -v, --verbose                log progress to stderr
  -h, --help

exit codes: 0 ok, 1 failure, 2 usage error, 3 migration lock busy
`;

class UsageError extends Error {}

function duration(text: string, flag: string): number {
  const match = /^(\d{1,9})(ms|s|m|min|h)$/.exec(text);
  if (!match) throw new UsageError(`${flag} takes a duration such as 500ms, 30s, 15min, 2h; got "${text}"`);
  const unit = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'min' | 'h'];
  return Number(match[1]) * unit;
}

export async function runMigrateCli(argv: string[], io: MigrateIo): Promise<number> {
  const parsed = parseCommandLine(io, 'migrate', MIGRATE_USAGE, {
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        'database-url': { type: 'string' },
        'migrations-dir': { type: 'string' },
        to: { type: 'string' },
        approve: { type: 'string' },
        'allow-downgrade': { type: 'boolean', default: false },
        'remove-missing': { type: 'boolean', default: false },
        'lock-wait': { type: 'string' },
        'lock-timeout': { type: 'string' },
        'statement-timeout': { type: 'string' },
        instance: { type: 'string' },
        json: { type: 'boolean', default: false },
        verbose: { type: 'boolean', short: 'v', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const [command, ...extra] = positionals;
  const usage = (message: string): number => {
    io.stderr.write(`migrate: ${message}\n\n${MIGRATE_USAGE}`);
    return EXIT.usage;
  };
  if (command === undefined) return usage('missing command');
  if (!['status', 'plan', 'up', 'down', 'repair'].includes(command)) return usage(`unknown command "${command}"`);
  if (extra.length > 0) return usage(`unexpected argument "${extra[0]}"`);
  if (command === 'down' && values.to === undefined) return usage('down needs --to NAME (or --to none to revert everything)');
  if (values.to !== undefined && !['plan', 'up', 'down'].includes(command)) return usage(`--to does not apply to ${command}`);

  let lockWait: number | undefined;
  let stepLock: number | undefined;
  let stepStatement: number | undefined;
  try {
    if (values['lock-wait'] !== undefined) lockWait = values['lock-wait'] === '0' ? 0 : duration(values['lock-wait'], '--lock-wait');
    if (values['lock-timeout'] !== undefined) stepLock = duration(values['lock-timeout'], '--lock-timeout');
    if (values['statement-timeout'] !== undefined) stepStatement = duration(values['statement-timeout'], '--statement-timeout');
  } catch (error) {
    if (error instanceof UsageError) return usage(error.message);
    throw error;
  }

  const repoRoot = io.repoRoot ?? new URL('../../', import.meta.url).pathname;
  const migrationsDir = resolve(values['migrations-dir'] ?? join(repoRoot, 'migrations'));
  const settings = connectionSettingsFrom(io.env, values['database-url']);
  const user = io.env['USER'] ?? safeUser();
  const engine = createMigrationEngine({
    connection: createConnector(settings),
    migrationsDir,
    instance: values.instance ?? cliInstance(user),
    logger: createLogger({ level: values.verbose ? 'info' : 'warn', destination: io.stderr }),
    adopters: lokdarpanAdopters(migrationsDir),
    ...(lockWait !== undefined ? { lockTimeoutMs: lockWait } : {}),
    ...(stepLock !== undefined ? { stepLockTimeoutMs: stepLock } : {}),
    ...(stepStatement !== undefined ? { stepStatementTimeoutMs: stepStatement } : {}),
  });
  const out = (json: unknown, human: string): void => {
    io.stdout.write(values.json ? `${JSON.stringify(json, null, 2)}\n` : human);
  };
  const to = values.to === 'none' ? null : values.to;
  const approve = values.approve !== undefined ? { approvedPlanHash: values.approve } : {};

  try {
    switch (command) {
      case 'status': {
        const status = await engine.status();
        out(status, formatStatus(status));
        return status.problems.length > 0 ? EXIT.failure : EXIT.ok;
      }
      case 'plan': {
        const plan = await engine.plan(to === undefined ? {} : { to });
        out(plan, formatPlan(plan));
        return EXIT.ok;
      }
      case 'up': {
        if (to === null) return usage('up --to needs a migration name');
        const result = await engine.up({ ...(to !== undefined ? { to } : {}), ...approve });
        out(result, formatResult(result));
        return EXIT.ok;
      }
      case 'down': {
        const result = await engine.down({ to: to ?? null, allowDowngrade: values['allow-downgrade'], ...approve });
        out(result, formatResult(result));
        return EXIT.ok;
      }
      case 'repair': {
        const result = await engine.repair({ removeMissing: values['remove-missing'] });
        out(result, formatRepair(result));
        return EXIT.ok;
      }
    }
    return EXIT.usage;
  } catch (error) {
    const reason = isOperatorError(error) ? error.reason : 'Error';
    if (values.json) {
      io.stdout.write(`${JSON.stringify({ error: { reason, message: describeError(error), ...(isOperatorError(error) ? { details: error.details } : {}) } }, null, 2)}\n`);
    }
    io.stderr.write(`migrate ${command}: ${reason}: ${describeError(error)}\n`);
    return reason === 'MigrationLockBusy' ? EXIT.busy : EXIT.failure;
  } finally {
    await engine.close();
  }
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

function pendingLines(pending: readonly PlannedMigration[], verb: string): string {
  if (pending.length === 0) return `nothing to ${verb}\n`;
  return pending
    .map((m) => `  ${verb.padEnd(6)} ${m.name}  sha256:${m.checksum.slice(0, 12)}  ${m.transactional ? 'transactional' : `${m.steps} steps, not all transactional`}\n`)
    .join('');
}

function historyLines(history: readonly HistoryRow[]): string {
  return history
    .map((r) => `  ${r.kind === 'adopted' ? 'adopted' : 'applied'} ${r.name}  ${r.appliedAt.toISOString()}  ${r.durationMs} ms  by ${r.appliedBy}\n`)
    .join('');
}

export function formatStatus(s: MigrationStatus): string {
  let text = `schema version: ${s.schemaVersion ?? '(none)'} (latest file: ${s.latest ?? '(none)'})\n`;
  if (s.adoptableBy) text += `database not yet recorded; adopter "${s.adoptableBy}" recognises it and "up" will baseline it\n`;
  if (s.history.length > 0) text += `history:\n${historyLines(s.history)}`;
  text += s.pending.length > 0 ? `pending:\n${pendingLines(s.pending, 'apply')}` : 'pending: none\n';
  for (const p of s.problems) text += `PROBLEM ${p.reason}: ${p.message}\n`;
  return text;
}

export function formatPlan(p: MigrationPlan): string {
  let text = `plan ${p.direction}: ${p.from ?? '(none)'} -> ${p.target ?? '(none)'}\n`;
  if (p.adoption) text += `  adopt  ${p.adoption.names.join(', ')} (recorded by adopter ${p.adoption.adopter}, no SQL run)\n`;
  text += pendingLines(p.migrations, p.direction === 'up' ? 'apply' : 'revert');
  text += `plan hash: ${p.hash}\n`;
  return text;
}

export function formatResult(r: MigrationResult): string {
  let text = '';
  if (r.adopted.length > 0) text += `adopted ${r.adopted.join(', ')}\n`;
  if (r.applied.length === 0) text += `nothing to do; schema version ${r.schemaVersion ?? '(none)'}\n`;
  for (const a of r.applied) {
    text += `${r.direction === 'up' ? 'applied ' : 'reverted'} ${a.name}  ${a.durationMs} ms${a.rebuiltIndexes.length > 0 ? `  (rebuilt INVALID ${a.rebuiltIndexes.join(', ')})` : ''}\n`;
    for (const w of a.warnings ?? []) text += `  WARNING ${w}\n`;
  }
  if (r.applied.length > 0) text += `schema version ${r.schemaVersion ?? '(none)'}\n`;
  return text;
}

export function formatRepair(r: RepairResult): string {
  if (r.updatedChecksums.length === 0 && r.removedMissing.length === 0) return 'history matches the files; nothing repaired\n';
  return (
    r.updatedChecksums.map((u) => `re-recorded ${u.name}: ${u.recorded} -> ${u.actual}\n`).join('') +
    r.removedMissing.map((n) => `removed history row of missing ${n}\n`).join('')
  );
}
