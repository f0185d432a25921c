// The overlap report of a BackupPolicy (src/controllers/backup/overlap.ts) and the fingerprint the
// operator uses to re-check the other policies when one's destinations or database change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { overlapFingerprint, policyOverlaps, type PolicyForOverlap } from '../../../src/controllers/backup/overlap.ts';
import { NS, destination, policySpec } from './backup-fakes.ts';

const p = (name: string, spec: Record<string, unknown>, database?: string, namespace = NS): PolicyForOverlap => ({ metadata: { name, namespace }, spec, ...(database ? { status: { database } } : {}) });

test('replicas count too, and each own destination lists every other policy writing there', () => {
  const self = p('nightly', policySpec());
  const all = [self, p('a', policySpec({ replicas: [] }), 'lokdarpan'), p('b', policySpec({ destination: destination('dr', 's3-dr') , replicas: [] }), 'lokdarpan', 'other')];
  const o = policyOverlaps(self, 'lokdarpan', all);
  assert.deepEqual([...o.byDestination], [['dr', ['other/b dr']], ['primary', [`${NS}/a primary`]]].sort());
  assert.match(o.message ?? '', /primary \(aws s3:\/\/primary-bucket\/lokdarpan\/lokdarpan\/\) is also written by BackupPolicy ns\/a primary/);
  assert.match(o.message ?? '', /dr \(aws s3:\/\/dr-bucket\/lokdarpan\/lokdarpan\/\) is also written by BackupPolicy other\/b dr/);
});

test('another endpoint is another store; an invalid spec is ignored', () => {
  const self = p('nightly', policySpec());
  const elsewhere = policySpec({ destination: { ...destination('primary', 's3-primary'), endpoint: 'http://127.0.0.1:9000' }, replicas: [] });
  const o = policyOverlaps(self, 'lokdarpan', [p('x', elsewhere, 'lokdarpan'), p('y', { schedule: 'nope' }, 'lokdarpan')]);
  assert.equal(o.message, undefined);
  assert.equal(o.byDestination.size, 0);
});

test('the fingerprint follows destinations and database, not other status', () => {
  const base = p('nightly', policySpec(), 'lokdarpan');
  assert.equal(overlapFingerprint(base), overlapFingerprint({ ...base, status: { database: 'lokdarpan', lastPrune: {} } as PolicyForOverlap['status'] }));
  assert.notEqual(overlapFingerprint(base), overlapFingerprint(p('nightly', policySpec(), 'other')));
  assert.notEqual(overlapFingerprint(base), overlapFingerprint(p('nightly', policySpec({ destination: { ...destination('primary', 's3-primary'), prefix: 'x/' } }), 'lokdarpan')));
  assert.equal(overlapFingerprint(undefined), '');
});
