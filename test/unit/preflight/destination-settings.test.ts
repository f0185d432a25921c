// A destination's required bucket settings against what the probe read: each missing or unreadable
// setting named, and two policies on one bucket sharing the probe yet getting their own verdicts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DestinationProbeReport } from '../../../src/adapters/s3/index.ts';
import { policyDestinationSchema } from '../../../src/api/common.ts';
import { checkDestinations, type CheckContext } from '../../../src/controllers/shared/preflight.ts';
import { ProbeCache } from '../../../src/controllers/shared/probe-cache.ts';
import { checkDestinationSettings, missingSettings } from '../../../src/engines/preflight/destination-settings.ts';
import { isOperatorError } from '../../../src/errors.ts';

const NONE = { requireVersioning: false, requireObjectLock: false };
const BOTH = { requireVersioning: true, requireObjectLock: true };
const report = (versioning: DestinationProbeReport['versioning'], objectLock: DestinationProbeReport['objectLock'], unreadable?: DestinationProbeReport['unreadable']): DestinationProbeReport => ({
  versioning,
  objectLock,
  ...(unreadable ? { unreadable } : {}),
});

test('nothing required: any bucket passes', () => {
  assert.deepEqual(missingSettings(report('Off', 'Off'), NONE), []);
  assert.deepEqual(missingSettings(report('Unknown', 'Unknown'), NONE), []);
});

test('required settings the bucket has pass; each one it lacks is named', () => {
  assert.deepEqual(missingSettings(report('Enabled', 'Enabled'), BOTH), []);
  assert.deepEqual(missingSettings(report('Off', 'Off'), { requireVersioning: true, requireObjectLock: false }), ['versioning is required but is Off']);
  assert.deepEqual(missingSettings(report('Suspended', 'Off'), { requireVersioning: true, requireObjectLock: false }), ['versioning is required but is Suspended']);
  assert.deepEqual(missingSettings(report('Enabled', 'Off'), BOTH), ['Object Lock is required but is not enabled on the bucket']);
  assert.equal(missingSettings(report('Off', 'Off'), BOTH).length, 2);
});

test('a setting that could not be read fails a requirement and says why', () => {
  const missing = missingSettings(report('Unknown', 'Unknown', { versioning: 'AccessDenied', objectLock: 'AccessDenied' }), BOTH);
  assert.match(missing[0] ?? '', /^versioning is required but could not be read \(AccessDenied\); allow s3:GetBucketVersioning$/);
  assert.match(missing[1] ?? '', /^Object Lock is required but its configuration could not be read \(AccessDenied\)/);
});

test('checkDestinationSettings throws DestinationSettingsMismatch naming the destination and every missing setting', () => {
  assert.doesNotThrow(() => checkDestinationSettings('destination primary', report('Enabled', 'Enabled'), BOTH));
  assert.throws(
    () => checkDestinationSettings('destination dr (s3://b/p/)', report('Off', 'Off'), BOTH),
    (e: unknown) =>
      isOperatorError(e) &&
      e.reason === 'DestinationSettingsMismatch' &&
      e.message === 'destination dr (s3://b/p/): versioning is required but is Off; Object Lock is required but is not enabled on the bucket',
  );
});

test('the requirements default to false and are part of a policy destination', () => {
  const parsed = policyDestinationSchema.parse({ name: 'primary', bucket: 'bkt', credentialsSecret: 's3' });
  assert.equal(parsed.requireVersioning, false);
  assert.equal(parsed.requireObjectLock, false);
  assert.equal(policyDestinationSchema.parse({ name: 'primary', bucket: 'bkt', credentialsSecret: 's3', requireVersioning: true }).requireVersioning, true);
});

test('two policies on one bucket share its probe, each judged by its own requirements', async () => {
  let probes = 0;
  const context: CheckContext = {
    namespace: 'ns',
    secrets: { read: async () => ({ accessKeyId: 'a', secretAccessKey: 's' }) },
    cache: new ProbeCache(),
    probes: {
      destination: async () => {
        probes++;
        return report('Off', 'Off');
      },
      withDatabase: async () => assert.fail('no database'),
      pgDump: async () => assert.fail('no pg_dump'),
    },
    maxAgeMs: 15_000,
  };
  const destination = (requireVersioning: boolean) => policyDestinationSchema.parse({ name: 'primary', bucket: 'bkt', prefix: 'p/', credentialsSecret: 's3', requireVersioning });

  const strict = await checkDestinations(context, [destination(true)]);
  assert.equal(strict.ok, false);
  assert.equal(strict.reason, 'DestinationSettingsMismatch');
  assert.equal(strict.message, 'destination primary (s3://bkt/p/): versioning is required but is Off');
  const lenient = await checkDestinations(context, [destination(false)]);
  assert.equal(lenient.ok, true, lenient.message);
  assert.equal(lenient.reason, 'DestinationsVerified');
  const strictAgain = await checkDestinations(context, [destination(true)]);
  assert.equal(strictAgain.reason, 'DestinationSettingsMismatch', 'a lenient verdict is not reused for a stricter policy');
  assert.equal(probes, 1, 'one probe for the bucket');
});
