// `lokdarpan seed`: loads deterministic synthetic LokDarpan data (src/engines/datagen) into an empty
// database that is at migration 004 or later, against --database-url or the PG* variables.
// Exit codes: 0 ok, 1 failure, 2 usage.
import pg from 'pg';
import { connectionSettingsFrom, describeConnection } from '../adapters/postgres/connection.ts';
import { describeError } from '../errors.ts';
import { generateLokdarpanData, type GenerateOptions } from '../engines/datagen/index.ts';
import { parseCommandLine } from './io.ts';

export interface SeedIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv | Readonly<Record<string, string | undefined>>;
}

export const SEED_USAGE = `usage: lokdarpan seed [options]

Loads synthetic LokDarpan data (150 GHMC wards, posts, authors, election results, AI embeddings,
model executions, reports, budgets, metrics) into an EMPTY schema at migration 004 or later, by COPY.
The same --seed and --now give the same rows.

options:
  --database-url URL        target database (default: DATABASE_URL, else PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE)
  --seed S                  any string or number (default 1)
  --posts N                 posts (default 10000)
  --embeddings N            ai_embedding_store rows with a halfvec(3072) embedding (default 1000)
  --model-executions N      ai_model_execution rows (default 5000)
  --reports N               ai_geopolitical_report rows (default 200)
  --metrics N               ai_system_metrics rows (default 2000)
  --authors N               authors (default posts/200, at least 50)
  --years N                 years of history before --now (default 3)
  --now ISO-8601            end of the history (default: now)
  --json                    print the row counts as JSON
  -h, --help
`;

class UsageError extends Error {}

function count(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,10}$/.test(value)) throw new UsageError(`${flag} takes a non-negative integer, got "${value}"`);
  return Number(value);
}

export async function runSeedCli(argv: readonly string[], io: SeedIo): Promise<number> {
  const parsed = parseCommandLine(io, 'seed', SEED_USAGE, {
      args: [...argv],
      allowPositionals: false,
      options: {
        'database-url': { type: 'string' },
        seed: { type: 'string' },
        posts: { type: 'string' },
        embeddings: { type: 'string' },
        'model-executions': { type: 'string' },
        reports: { type: 'string' },
        metrics: { type: 'string' },
        authors: { type: 'string' },
        years: { type: 'string' },
        now: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  if (typeof parsed === 'number') return parsed;
  const v = parsed.values;
  const options: GenerateOptions = { seed: v.seed ?? '1' };
  try {
    const set = <K extends keyof GenerateOptions>(key: K, value: GenerateOptions[K] | undefined): void => {
      if (value !== undefined) options[key] = value;
    };
    set('posts', count(v.posts, '--posts'));
    set('embeddings', count(v.embeddings, '--embeddings'));
    set('modelExecutions', count(v['model-executions'], '--model-executions'));
    set('reports', count(v.reports, '--reports'));
    set('metrics', count(v.metrics, '--metrics'));
    set('authors', count(v.authors, '--authors'));
    const years = count(v.years, '--years');
    if (years !== undefined && (years < 1 || years > 30)) throw new UsageError('--years takes 1..30');
    set('years', years);
    if (v.now !== undefined) {
      const now = new Date(v.now);
      if (Number.isNaN(now.getTime())) throw new UsageError(`--now takes an ISO-8601 time, got "${v.now}"`);
      options.now = now;
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`seed: ${error.message}\n`);
      return 2;
    }
    throw error;
  }

  const settings = connectionSettingsFrom(io.env, v['database-url']);
  const target = describeConnection(settings);
  const client = new pg.Client({ ...settings, application_name: 'lokdarpan-seed' } as pg.ClientConfig);
  client.on('error', () => {});
  const started = performance.now();
  try {
    await client.connect();
    if (!v.json) {
      options.onTable = (table, rows, ms) => io.stderr.write(`  ${table.padEnd(24)} ${String(rows).padStart(10)} rows  ${Math.round(ms)} ms\n`);
      io.stderr.write(`seeding ${target} (seed ${String(options.seed)})\n`);
    }
    const counts = await generateLokdarpanData(client, options);
    const ms = Math.round(performance.now() - started);
    if (v.json) io.stdout.write(`${JSON.stringify({ target, seed: String(options.seed), durationMs: ms, counts })}\n`);
    else io.stdout.write(`loaded ${Object.values(counts).reduce((a, b) => a + b, 0)} rows into ${Object.keys(counts).length} tables in ${ms} ms\n`);
    return 0;
  } catch (error) {
    io.stderr.write(`seed: ${target}: ${describeError(error)}\n`);
    return 1;
  } finally {
    await client.end().catch(() => {});
  }
}
