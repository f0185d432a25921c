import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configFromEnv } from '../../../src/operator/config.ts';

test('LOKDARPAN_PROGRESS_INTERVAL: default 10s, a duration of at least 1s, anything else refused by name', () => {
  assert.equal(configFromEnv({}).progressInterval, 10_000);
  assert.equal(configFromEnv({ LOKDARPAN_PROGRESS_INTERVAL: '30s' }).progressInterval, 30_000);
  assert.equal(configFromEnv({ LOKDARPAN_PROGRESS_INTERVAL: '1m' }).progressInterval, 60_000);
  assert.throws(() => configFromEnv({ LOKDARPAN_PROGRESS_INTERVAL: '500ms' }), /progressInterval: must be at least 1s/);
  assert.throws(() => configFromEnv({ LOKDARPAN_PROGRESS_INTERVAL: 'often' }), /progressInterval: "often" is not a duration/);
});
