// The command-line tools the integration tests drive are found, are the pinned versions, and a
// missing one fails with an error that says how to install it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  MissingToolError,
  ageBinary,
  ageKeygenBinary,
  kubectl,
  pgBinDir,
  pgTool,
  weedBinary,
  zstdBinary,
} from '../env/tools.ts';

function versionOf(path: string, args: string[]): string {
  const out = spawnSync(path, args, { encoding: 'utf8' });
  assert.equal(out.status, 0, `${path} ${args.join(' ')}: ${out.stderr}`);
  return `${out.stdout}${out.stderr}`.trim();
}

describe('test environment CLI tools', () => {
  test('PostgreSQL 15 and 18 client tools match their majors', () => {
    assert.match(versionOf(pgTool(15, 'pg_dump'), ['--version']), /^pg_dump \(PostgreSQL\) 15\./);
    assert.match(versionOf(pgTool(15, 'pg_restore'), ['--version']), /^pg_restore \(PostgreSQL\) 15\./);
    assert.match(versionOf(pgTool(18, 'pg_dump'), ['--version']), /^pg_dump \(PostgreSQL\) 18\./);
    assert.match(versionOf(pgTool(18, 'pg_restore'), ['--version']), /^pg_restore \(PostgreSQL\) 18\./);
    assert.match(versionOf(pgTool(18, 'psql'), ['--version']), /^psql \(PostgreSQL\) 18\./);
  });

  test('age, age-keygen, zstd, kubectl and weed are present', () => {
    assert.match(versionOf(ageBinary(), ['--version']), /^v?1\./);
    assert.match(versionOf(ageKeygenBinary(), ['--version']), /^v?1\./);
    assert.match(versionOf(zstdBinary(), ['--version']), /Zstandard CLI/);
    assert.match(versionOf(kubectl(), ['version', '--client']), /Client Version: v1\./);
    assert.match(versionOf(weedBinary(), ['version']), /\b4\.48\b/);
  });

  test('a missing tool fails with a hint to run the setup', () => {
    const saved = process.env['LOKDARPAN_PG18_BIN'];
    process.env['LOKDARPAN_PG18_BIN'] = '/nonexistent/pg18/bin';
    try {
      assert.throws(() => pgBinDir(18), (e: unknown) => e instanceof MissingToolError && /bash scripts\/setup\.sh/.test(e.message));
    } finally {
      if (saved === undefined) delete process.env['LOKDARPAN_PG18_BIN'];
      else process.env['LOKDARPAN_PG18_BIN'] = saved;
    }
  });
});
