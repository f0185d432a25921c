// `lokdarpan retention plan|run`: the retention engine from the command line, against --database-url or
// the PG* variables, with rules from a JSON/YAML file or the built-in defaults. Human output by default,
// --json for machines. Exit codes: 0 ok (also a run the budget cut short: status "partial"), 1 failure,
// 2 usage error or refused rules.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { connectionSettingsFrom, createConnector } from '../adapters/postgres/connection.ts';
import { S3ObjectStore } from '../adapters/s3/index.ts';
import { parseDuration } from '../api/duration.ts';
import { describeError, isOperatorError } from '../errors.ts';
import { createLogger, silentLogger } from '../observability/logger.ts';
import {
  ageEncryptor,
  createRetentionEngine,
  defaultRetentionRules,
  parseRules,
  s3ArchiveSink,
  type RetentionArchiveOptions,
  type RetentionPlan,
  type RetentionRunResult,
} from '../engines/retention/index.ts';
import { EXIT, parseCommandLine } from './io.ts';

export interface RetentionIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv | Readonly<Record<string, string | undefined>>;
  cwd?: string;
}

export const RETENTION_USAGE = `usage: lokdarpan retention <plan|run> [options]

commands:
  plan                         validate the rules against the database and count the rows each would touch
  run                          delete / archive / mark expired rows in small batches

options:
  --database-url URL           target database (default: DATABASE_URL, else PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE)
  --rules FILE                 rules as JSON or YAML: a list, or an object with "rules" (default: the built-in rules)
  --archive-reports            built-in rules: archive reports to S3 before their 3-year deletion
  --dry-run                    run: only count, change nothing
  --batch-size N               rows per batch (default 1000)
  --pause DURATION             pause between batches (default 10ms)
  --budget DURATION            stop cleanly after this long, status "partial" (default 15m)
  --lock-timeout DURATION      lock_timeout of each batch (default 2s)
  --statement-timeout DURATION statement_timeout of each statement (default 30s)
  --archive-bucket NAME        S3 bucket for rules with action "archive"
  --archive-prefix PREFIX      key prefix in the bucket (default "")
  --archive-endpoint URL       S3-compatible endpoint (default: AWS S3)
  --archive-region REGION      signing region (default us-east-1)
  --archive-path-style         path-style URLs (most S3-compatible stores)
  --recipient AGE1...          age recipient of archives (repeatable); credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
  --json                       machine-readable output
  -v, --verbose                log progress to stderr
  -h, --help

exit codes: 0 ok (a budget-limited run reports status "partial"), 1 failure, 2 usage error or refused rules
`;

class UsageError extends Error {}

function durationOption(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  try {
    return parseDuration(text);
  } catch (error) {
    throw new UsageError(`${flag}: ${describeError(error)}`);
  }
}

function intOption(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9][0-9]{0,8}$/.test(text)) throw new UsageError(`${flag} takes a positive whole number; got "${text}"`);
  return Number(text);
}

export async function runRetentionCli(argv: string[], io: RetentionIo): Promise<number> {
  const parsed = parseCommandLine(io, 'retention', RETENTION_USAGE, {
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        'database-url': { type: 'string' },
        rules: { type: 'string' },
        'archive-reports': { type: 'boolean', default: false },
        'dry-run': { type: 'boolean', default: false },
        'batch-size': { type: 'string' },
        pause: { type: 'string' },
        budget: { type: 'string' },
        'lock-timeout': { type: 'string' },
        'statement-timeout': { type: 'string' },
        'archive-bucket': { type: 'string' },
        'archive-prefix': { type: 'string' },
        'archive-endpoint': { type: 'string' },
        'archive-region': { type: 'string' },
        'archive-path-style': { type: 'boolean', default: false },
        recipient: { type: 'string', multiple: true },
        json: { type: 'boolean', default: false },
        verbose: { type: 'boolean', short: 'v', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const command = positionals[0];
  if ((command !== 'plan' && command !== 'run') || positionals.length > 1) {
    io.stderr.write(`retention: expected "plan" or "run"${command === undefined ? '' : `, got "${positionals.join(' ')}"`}\n\n${RETENTION_USAGE}`);
    return EXIT.usage;
  }

  let rules: unknown;
  let options;
  try {
    rules = values.rules === undefined ? defaultRetentionRules({ archiveReports: values['archive-reports'] }) : await readRules(resolve(io.cwd ?? process.cwd(), values.rules));
    options = {
      batchSize: intOption(values['batch-size'], '--batch-size'),
      pauseMs: durationOption(values.pause, '--pause'),
      budgetMs: durationOption(values.budget, '--budget') ?? 15 * 60_000,
      lockTimeoutMs: durationOption(values['lock-timeout'], '--lock-timeout'),
      statementTimeoutMs: durationOption(values['statement-timeout'], '--statement-timeout'),
    };
    parseRules(rules); // schema, identifiers and durations: refused before connecting
    if (values['archive-bucket'] === undefined && (values.recipient ?? []).length > 0) throw new UsageError('--recipient needs --archive-bucket');
    if (values['archive-bucket'] !== undefined && (values.recipient ?? []).length === 0) throw new UsageError('--archive-bucket needs at least one --recipient age1...');
  } catch (error) {
    io.stderr.write(`retention: ${isOperatorError(error) ? `${error.reason}: ` : ''}${describeError(error)}\n`);
    return EXIT.usage;
  }

  let archive: RetentionArchiveOptions | undefined;
  const bucket = values['archive-bucket'];
  if (bucket !== undefined) {
    const accessKeyId = io.env['AWS_ACCESS_KEY_ID'];
    const secretAccessKey = io.env['AWS_SECRET_ACCESS_KEY'];
    const endpoint = values['archive-endpoint'];
    const store = new S3ObjectStore({
      name: 'retention-archive',
      bucket,
      prefix: values['archive-prefix'] ?? '',
      region: values['archive-region'] ?? io.env['AWS_REGION'] ?? 'us-east-1',
      forcePathStyle: values['archive-path-style'],
      ...(endpoint === undefined ? {} : { endpoint, checksums: 'WHEN_REQUIRED' as const }),
      ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}),
    });
    try {
      archive = { sink: s3ArchiveSink(store), encrypt: ageEncryptor(values.recipient ?? []), prefix: 'retention/' };
    } catch (error) {
      io.stderr.write(`retention: ${describeError(error)}\n`);
      return EXIT.usage;
    }
  }

  const connector = createConnector(connectionSettingsFrom(io.env, values['database-url']), { applicationName: 'lokdarpan-retention' });
  let client;
  try {
    client = await connector.connect();
  } catch (error) {
    io.stderr.write(`retention: cannot connect to ${connector.description}: ${describeError(error)}\n`);
    return EXIT.failure;
  }
  try {
    const logger = values.verbose ? createLogger({ level: 'info', destination: io.stderr }) : silentLogger;
    const engine = createRetentionEngine({ db: client, logger, ...(archive === undefined ? {} : { archive }), ...definedOnly(options) });
    if (command === 'plan') {
      const plan = await engine.plan(rules);
      io.stdout.write(values.json ? `${JSON.stringify(plan, null, 2)}\n` : formatPlan(plan));
      return EXIT.ok;
    }
    const result = await engine.run(rules, { dryRun: values['dry-run'] });
    io.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : formatRun(result));
    return result.status === 'failed' ? EXIT.failure : EXIT.ok;
  } catch (error) {
    const refused = isOperatorError(error) && error.terminal;
    if (values.json) io.stdout.write(`${JSON.stringify({ error: { reason: isOperatorError(error) ? error.reason : 'Error', message: describeError(error) } }, null, 2)}\n`);
    io.stderr.write(`retention: ${isOperatorError(error) ? `${error.reason}: ` : ''}${describeError(error)}\n`);
    return refused ? EXIT.usage : EXIT.failure;
  } finally {
    await client.end().catch(() => {});
  }
}

async function readRules(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read --rules ${path}: ${describeError(error)}`);
  }
  let doc: unknown;
  try {
    doc = /\.json$/i.test(path) ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new UsageError(`--rules ${path} is not valid ${/\.json$/i.test(path) ? 'JSON' : 'YAML'}: ${describeError(error)}`);
  }
  if (doc !== null && typeof doc === 'object' && !Array.isArray(doc) && 'rules' in doc) return (doc as { rules: unknown }).rules;
  return doc;
}

function definedOnly<T extends Record<string, unknown>>(object: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  const left = (i: number, r: string[]): boolean => i <= 2 || i === r.length - 1;
  return rows.map((r) => r.map((cell, i) => (left(i, r) ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ').trimEnd()).join('\n');
}

export function formatPlan(plan: RetentionPlan): string {
  const rows = [['RULE', 'TABLE', 'ACTION', 'MATCHED'], ...plan.rules.map((r) => [r.rule, r.table, r.action, String(r.matched)])];
  return `retention plan at ${plan.at} (nothing changed)\n${table(rows)}\ntotal matched: ${plan.totals.matched}\n`;
}

export function formatRun(result: RetentionRunResult): string {
  const rows = [
    ['RULE', 'TABLE', 'ACTION', 'MATCHED', 'DELETED', 'ARCHIVED', 'MARKED', 'BATCHES', 'MS', 'NOTE'],
    ...result.rules.map((r) => [
      r.rule, r.table, r.action, r.matched === null ? '-' : String(r.matched), String(r.deleted), String(r.archived), String(r.marked),
      String(r.batches), String(r.durationMs), r.error ? `${r.error.reason}: ${r.error.message}` : r.partial ? 'partial' : '',
    ]),
  ];
  const t = result.totals;
  return (
    `retention ${result.dryRun ? 'dry run' : 'run'} ${result.runId}: ${result.status} in ${result.durationMs} ms\n${table(rows)}\n` +
    `total: matched ${t.matched}, deleted ${t.deleted} (of which archived ${t.archived}), marked ${t.marked}, batches ${t.batches}\n`
  );
}
