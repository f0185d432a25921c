// Parses one migration file (docs/design/migrations-format.md) into steps and header directives. Pure.
export interface MigrationStep {
  /** 0-based position in the file. */
  index: number;
  transactional: boolean;
  sql: string;
  /** 1-based line of the step's first line in the file, for messages. */
  line: number;
  /** For a no-transaction `CREATE [UNIQUE] INDEX CONCURRENTLY`: the index name as written (maybe schema-qualified). */
  concurrentIndex?: string;
}

export interface ParsedMigrationFile {
  steps: MigrationStep[];
  lockTimeoutMs?: number;
  statementTimeoutMs?: number;
}

const DIRECTIVE = /^\s*--\s*lokdarpan:([a-z-]+)(?:\s+(.*?))?\s*$/;

/** Throws an Error with a line-numbered message; the caller wraps it into InvalidMigrationFile. */
export function parseMigrationFile(text: string): ParsedMigrationFile {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const result: ParsedMigrationFile = { steps: [] };
  let current: { transactional: boolean; line: number; body: string[] } | undefined;
  let sawStep = false;
  const preamble: string[] = [];

  const flush = (): void => {
    if (!current) return;
    const raw = current.body.join('\n');
    const sql = raw.trim();
    if (hasStatement(sql)) {
      const leading = raw.slice(0, raw.length - raw.trimStart().length);
      const line = current.line + (leading.match(/\n/g)?.length ?? 0);
      result.steps.push(makeStep(result.steps.length, current.transactional, sql, line));
    } else if (!current.transactional || sawStep) {
      throw new Error(`line ${current.line}: step has no SQL`);
    }
  };

  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    const match = DIRECTIVE.exec(raw);
    if (!match) {
      (current ? current.body : preamble).push(raw);
      return;
    }
    const [, name, arg = ''] = match;
    switch (name) {
      case 'step': {
        if (arg !== 'transaction' && arg !== 'no-transaction') {
          throw new Error(`line ${lineNo}: "-- lokdarpan:step" takes "transaction" or "no-transaction", not "${arg}"`);
        }
        if (!current && hasStatement(preamble.join('\n'))) {
          // SQL before the first step directive forms an implicit transactional step.
          current = { transactional: true, line: 1, body: preamble.splice(0) };
        }
        flush();
        sawStep = true;
        current = { transactional: arg === 'transaction', line: lineNo + 1, body: [] };
        return;
      }
      case 'lock-timeout':
      case 'statement-timeout': {
        if (current || hasStatement(preamble.join('\n'))) {
          throw new Error(`line ${lineNo}: "-- lokdarpan:${name}" must come before the first statement and step`);
        }
        const ms = parseDirectiveDuration(arg, lineNo);
        if (name === 'lock-timeout') result.lockTimeoutMs = ms;
        else result.statementTimeoutMs = ms;
        preamble.push(raw);
        return;
      }
      default:
        throw new Error(`line ${lineNo}: unknown directive "-- lokdarpan:${name}"`);
    }
  });

  if (!current) current = { transactional: true, line: 1, body: preamble.splice(0) };
  flush();
  if (result.steps.length === 0) throw new Error('the file has no SQL statement');
  return result;
}

function makeStep(index: number, transactional: boolean, sql: string, line: number): MigrationStep {
  const step: MigrationStep = { index, transactional, sql, line };
  if (!transactional) {
    const count = countStatements(sql);
    if (count !== 1) {
      throw new Error(`line ${line}: a no-transaction step holds exactly one statement, found ${count}`);
    }
    const index = concurrentIndexName(sql);
    if (index !== undefined) step.concurrentIndex = index;
  }
  return step;
}

/** `5s`, `500ms`, `30min`, `15m`, `2h`; PostgreSQL-style unit words too (`30 min`, `1 hour`). */
export function parseDirectiveDuration(text: string, lineNo = 0): number {
  const match = /^(\d{1,9})\s*(ms|s|sec|m|min|h|hour)s?$/i.exec(text.trim());
  if (!match) throw new Error(`line ${lineNo}: "${text}" is not a duration (write e.g. 500ms, 5s, 30min, 2h)`);
  const factor: Record<string, number> = { ms: 1, s: 1_000, sec: 1_000, m: 60_000, min: 60_000, h: 3_600_000, hour: 3_600_000 };
  return Number(match[1]) * (factor[match[2]!.toLowerCase()] ?? 1);
}

/** The index name of `CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] name ON ...`, if that is the statement. */
export function concurrentIndexName(sql: string): string | undefined {
  const code = stripComments(sql);
  const match = /^\s*create\s+(?:unique\s+)?index\s+concurrently\s+(?:if\s+not\s+exists\s+)?((?:"(?:[^"]|"")+"|[\w$]+)(?:\s*\.\s*(?:"(?:[^"]|"")+"|[\w$]+))?)\s+on\s/i.exec(code);
  return match ? match[1]!.replace(/\s+/g, '') : undefined;
}

function hasStatement(sql: string): boolean {
  return stripComments(sql).replace(/;/g, '').trim().length > 0;
}

/**
 * Counts top-level statements, honouring quotes, dollar quotes and comments. Only used to check a
 * no-transaction step; transactional steps are sent as one multi-statement query, never split.
 */
export function countStatements(sql: string): number {
  const code = stripComments(sql);
  let count = 0;
  let pending = false;
  for (let i = 0; i < code.length; i++) {
    const ch = code[i]!;
    if (ch === "'" || ch === '"') {
      const end = code.indexOf(ch, i + 1);
      i = end === -1 ? code.length : end;
      pending = true;
    } else if (ch === '$') {
      const tag = /^\$(?:[A-Za-z_][A-Za-z_0-9]*)?\$/.exec(code.slice(i));
      if (tag) {
        const end = code.indexOf(tag[0], i + tag[0].length);
        i = end === -1 ? code.length : end + tag[0].length - 1;
      }
      pending = true;
    } else if (ch === ';') {
      if (pending) count++;
      pending = false;
    } else if (!/\s/.test(ch)) {
      pending = true;
    }
  }
  return pending ? count + 1 : count;
}

/** Removes `--` line comments and `/* *\/` block comments outside quotes. */
export function stripComments(sql: string): string {
  let out = '';
  for (let i = 0; i < sql.length; i++) {
    const ch = sql[i]!;
    if (ch === "'" || ch === '"') {
      const end = sql.indexOf(ch, i + 1);
      const stop = end === -1 ? sql.length : end + 1;
      out += sql.slice(i, stop);
      i = stop - 1;
    } else if (ch === '$' && /^\$(?:[A-Za-z_][A-Za-z_0-9]*)?\$/.test(sql.slice(i))) {
      const tag = /^\$(?:[A-Za-z_][A-Za-z_0-9]*)?\$/.exec(sql.slice(i))![0];
      const end = sql.indexOf(tag, i + tag.length);
      const stop = end === -1 ? sql.length : end + tag.length;
      out += sql.slice(i, stop);
      i = stop - 1;
    } else if (ch === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end - 1;
    } else if (ch === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? sql.length : end + 1;
      out += ' ';
    } else {
      out += ch;
    }
  }
  return out;
}
