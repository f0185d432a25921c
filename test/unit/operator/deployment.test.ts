// The Deployment gives the pod more time to terminate than the operator's own shutdown takes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { configFromEnv } from '../../../src/operator/config.ts';

test('terminationGracePeriodSeconds exceeds the shutdown grace, the abandon wait and the lease release', () => {
  const deployment = parse(readFileSync(new URL('../../../manifests/base/deployment.yaml', import.meta.url), 'utf8')) as {
    spec: { template: { spec: { terminationGracePeriodSeconds?: number; containers: { env?: { name: string; value?: string }[] }[] } } };
  };
  const pod = deployment.spec.template.spec;
  const env = Object.fromEntries((pod.containers[0]?.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value]));
  const grace = configFromEnv(env).shutdownGraceSeconds;
  const abandonSeconds = 5;
  const releaseSeconds = 2; // one bounded renewal wait, then the release PUT
  assert.ok(pod.terminationGracePeriodSeconds !== undefined, 'terminationGracePeriodSeconds is set (the default 30 s is not enough)');
  assert.ok(
    pod.terminationGracePeriodSeconds > grace + abandonSeconds + releaseSeconds,
    `terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} > ${grace} + ${abandonSeconds} + ${releaseSeconds}`,
  );
});

test('the shutdown grace and the reconcile timeout are configurable', () => {
  const config = configFromEnv({ LOKDARPAN_SHUTDOWN_GRACE_SECONDS: '45', LOKDARPAN_RECONCILE_TIMEOUT_SECONDS: '120' });
  assert.equal(config.shutdownGraceSeconds, 45);
  assert.equal(config.reconcileTimeoutSeconds, 120);
  assert.equal(configFromEnv({}).reconcileTimeoutSeconds, 3600);
  assert.throws(() => configFromEnv({ LOKDARPAN_RECONCILE_TIMEOUT_SECONDS: '0' }), /reconcileTimeoutSeconds/);
});
