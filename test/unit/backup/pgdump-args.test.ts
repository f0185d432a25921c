// pg_dump never waits forever for a table lock: --lock-wait-timeout is always passed unless disabled.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_LOCK_WAIT_TIMEOUT_MS, pgDumpArgs } from '../../../src/adapters/pgdump/index.ts';
import { isOperatorError } from '../../../src/errors.ts';

describe('pgDumpArgs', () => {
  it('passes the default lock wait timeout', () => {
    assert.ok(DEFAULT_LOCK_WAIT_TIMEOUT_MS > 0);
    assert.ok(pgDumpArgs({}).includes(`--lock-wait-timeout=${DEFAULT_LOCK_WAIT_TIMEOUT_MS}ms`));
  });
  it('takes a configured timeout, and 0 for none', () => {
    assert.ok(pgDumpArgs({ lockWaitTimeoutMs: 2500 }).includes('--lock-wait-timeout=2500ms'));
    assert.ok(!pgDumpArgs({ lockWaitTimeoutMs: 0 }).some((a) => a.startsWith('--lock-wait-timeout')));
  });
  it('rejects a negative or fractional timeout', () => {
    for (const bad of [-1, 1.5]) assert.throws(() => pgDumpArgs({ lockWaitTimeoutMs: bad }), (e: unknown) => isOperatorError(e) && e.reason === 'DumpFailed');
  });
});
