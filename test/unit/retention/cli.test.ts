// The retention CLI's argument handling: usage errors and refused rules exit 2 before any connection.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runRetentionCli } from '../../../src/cli/retention.ts';
import { runCaptured } from '../../cli-io.ts';

// An unreachable database: any attempt to connect would fail with exit 1, not 2.
const cli = (argv: string[]) => runCaptured(runRetentionCli, argv, { env: { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' } });

describe('retention CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'retention-cli-'));

  it('prints help', async () => {
    const r = await cli(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.out, /usage: lokdarpan retention <plan\|run>/);
  });

  it('exits 2 on usage errors', async () => {
    for (const argv of [[], ['frobnicate'], ['run', 'extra'], ['run', '--batch-size', '0'], ['run', '--pause', 'soon'], ['plan', '--nope'],
      ['run', '--recipient', 'age1xyz'], ['run', '--archive-bucket', 'b'], ['run', '--rules', join(dir, 'missing.yaml')]]) {
      const r = await cli(argv);
      assert.equal(r.code, 2, `${argv.join(' ')}: ${r.err}`);
      assert.ok(r.err.length > 0);
    }
  });

  it('refuses bad rules from a file before connecting, with the reason', async () => {
    const file = join(dir, 'rules.json');
    writeFileSync(file, JSON.stringify([{ name: 'x', table: 'ai_model_execution; DROP TABLE post', olderThan: { column: 'created_at', age: '1y' }, action: 'delete' }]));
    const r = await cli(['run', '--rules', file]);
    assert.equal(r.code, 2);
    assert.match(r.err, /RetentionIdentifierInvalid: .*not a plain SQL identifier/);
    writeFileSync(file, JSON.stringify({ rules: [{ name: 'x', table: 't', olderThan: { column: 'c', age: '6 months' }, action: 'delete' }] }));
    assert.match((await cli(['plan', '--rules', file])).err, /RetentionDurationInvalid/);
  });

  it('exits 1 when the database cannot be reached', async () => {
    const r = await cli(['plan']);
    assert.equal(r.code, 1);
    assert.match(r.err, /cannot connect/);
    assert.doesNotMatch(r.err, /password/);
  });
});
