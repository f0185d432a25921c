// Bulk loading through COPY ... FROM STDIN in PostgreSQL's text format: rows are encoded here and
// streamed with pg-copy-streams, with backpressure, in chunks of about 256 KiB.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

export type CopyValue = string | number | bigint | boolean | Date | null | undefined | readonly number[] | object;

const SPECIAL = /[\\\t\n\r]/;

/** One field in COPY text format: \N for NULL, backslash escapes for \ tab newline CR. */
export function copyField(value: CopyValue): string {
  if (value === null || value === undefined) return '\\N';
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`cannot COPY the number ${value}`);
    return String(value);
  } else if (typeof value === 'bigint') return value.toString();
  else if (typeof value === 'boolean') return value ? 't' : 'f';
  else if (value instanceof Date) return value.toISOString();
  else text = JSON.stringify(value);
  if (!SPECIAL.test(text)) return text;
  return text.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

/** One COPY text line (fields joined by tabs, newline-terminated). */
export function copyLine(fields: readonly CopyValue[]): string {
  let line = '';
  for (let i = 0; i < fields.length; i++) line += (i === 0 ? '' : '\t') + copyField(fields[i]);
  return line + '\n';
}

/** A pgvector/halfvec literal '[x,y,...]' with 4 decimals (halfvec keeps ~3 significant digits). */
export function vectorLiteral(values: ArrayLike<number>): string {
  let out = '[';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ',';
    out += String(Math.round(values[i]! * 10000) / 10000);
  }
  return out + ']';
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

const CHUNK = 256 * 1024;

/** Streams `rows` (each a tuple in `columns` order) into `table`; returns the number of rows. */
export async function copyRows(
  client: pg.ClientBase,
  table: string,
  columns: readonly string[],
  rows: Iterable<readonly CopyValue[]>,
): Promise<number> {
  let count = 0;
  function* chunks(): Generator<string> {
    let buffer = '';
    for (const row of rows) {
      if (row.length !== columns.length) {
        throw new Error(`COPY ${table}: a row has ${row.length} fields, expected ${columns.length}`);
      }
      buffer += copyLine(row);
      count++;
      if (buffer.length >= CHUNK) {
        yield buffer;
        buffer = '';
      }
    }
    if (buffer.length > 0) yield buffer;
  }
  const sql = `COPY ${quoteIdent(table)} (${columns.map(quoteIdent).join(', ')}) FROM STDIN`;
  const sink = client.query(copyFrom(sql));
  await pipeline(Readable.from(chunks(), { objectMode: false }), sink);
  return count;
}
