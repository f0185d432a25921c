import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configFromEnv } from '../../../src/operator/config.ts';

test('LOKDARPAN_CLUSTER_NAME: default "default", a DNS name, anything else refused by name', () => {
  assert.equal(configFromEnv({}).clusterName, 'default');
  assert.equal(configFromEnv({ LOKDARPAN_CLUSTER_NAME: 'prod-mumbai' }).clusterName, 'prod-mumbai');
  assert.equal(configFromEnv({ LOKDARPAN_CLUSTER_NAME: 'eks.prod-1' }).clusterName, 'eks.prod-1');
  assert.throws(() => configFromEnv({ LOKDARPAN_CLUSTER_NAME: 'Prod/1' }), /clusterName: must be a DNS label/);
  assert.throws(() => configFromEnv({ LOKDARPAN_CLUSTER_NAME: '-x' }), /clusterName: must be a DNS label/);
});
