// The generated CRDs on a real kube-apiserver: they install, kubectl explains them, the examples and
// the kustomize base are accepted, and invalid resources are refused with readable messages.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startKube, type KubeEnv } from '../env/kube.ts';
import { checkCronExpression } from '../../src/api/schedule.ts';
import { INVALID_SCHEDULES, VALID_SCHEDULES } from '../unit/api/cron-cases.ts';

let kube: KubeEnv;

before(async () => {
  kube = await startKube({ kcm: false });
  const applied = await kube.kubectl(['apply', '-f', 'crds/']);
  assert.equal(applied.code, 0, applied.stderr);
  const established = await kube.kubectl(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']);
  assert.equal(established.code, 0, established.stderr);
  await kube.kubectl(['create', 'namespace', 'lokdarpan']);
});

after(async () => {
  await kube?.stop();
});

function resource(kind: string, spec: string): string {
  return `apiVersion: lokdarpan.io/v1alpha1\nkind: ${kind}\nmetadata: {name: t-${Math.random().toString(36).slice(2, 8)}, namespace: lokdarpan}\nspec:\n${spec}`;
}

async function rejected(manifest: string): Promise<string> {
  const result = await kube.kubectl(['apply', '-f', '-'], { input: manifest });
  assert.notEqual(result.code, 0, `expected the API server to refuse:\n${manifest}`);
  return result.stderr;
}

describe('CustomResourceDefinitions on a real API server', () => {
  test('the examples (server-side dry run) and the kustomize base (real apply) are accepted', async () => {
    const examples = await kube.kubectl(['apply', '-k', 'examples/', '--dry-run=server']);
    assert.equal(examples.code, 0, examples.stderr);
    for (const kind of ['lokdarpandatabase', 'backuppolicy', 'backup', 'restore', 'retentionpolicy']) {
      assert.match(examples.stdout, new RegExp(`${kind}.lokdarpan.io/\\S+ created \\(server dry run\\)`));
    }
    // A dry run cannot create the namespace its other objects live in, so the base is applied for real.
    const base = await kube.kubectl(['apply', '-k', 'manifests/base']);
    assert.equal(base.code, 0, base.stderr);
    assert.match(base.stdout, /deployment.apps\/lokdarpan-operator created/);
    assert.match(base.stdout, /clusterrole.rbac.authorization.k8s.io\/lokdarpan-operator created/);
  });

  test('kubectl explain shows field descriptions', async () => {
    const explained = await kube.kubectl(['explain', 'lokdarpandatabases.spec.validation.thresholds']);
    assert.equal(explained.code, 0, explained.stderr);
    assert.match(explained.stdout, /vectorSearchP95Ms\s+<number>\s+p95 of a top-10 similarity search/);
    const policy = await kube.kubectl(['explain', 'backuppolicy.spec.recipients']);
    assert.match(policy.stdout, /age public keys/);
    // Status fields are explained too: every field listed under FIELDS carries a description line.
    for (const path of ['backup.status', 'restore.status', 'backuppolicy.status', 'retentionpolicy.status.lastRun', 'lokdarpandatabase.status.views']) {
      const status = await kube.kubectl(['explain', path]);
      assert.equal(status.code, 0, status.stderr);
      const fields = status.stdout.slice(status.stdout.indexOf('FIELDS:')).split('\n').slice(1);
      // A field line ("  name\t<type>"), maybe an "  enum: ..." line, then its description indented by 4, then a blank line.
      const undescribed = fields.filter((line, i) => {
        if (!/^ {2}\S+\t<[^>]+>/.test(line)) return false;
        const end = fields.findIndex((l, j) => j > i && l.trim() === '');
        return !fields.slice(i + 1, end === -1 ? undefined : end).some((l) => /^ {4}\S/.test(l));
      });
      assert.ok(fields.filter((line) => /^ {2}\S+\t<[^>]+>/.test(line)).length >= 4, `${path}: no fields found in\n${status.stdout}`);
      assert.deepEqual(undescribed, [], `${path}:\n${status.stdout}`);
    }
    const backup = await kube.kubectl(['explain', 'backup.status.progress']);
    assert.match(backup.stdout, /etaSeconds\s+<number>\s+Estimated seconds left/);
  });

  test('defaults are applied by the API server', async () => {
    const manifest = resource('LokdarpanDatabase', '  connection: {secretName: db}\n');
    const created = await kube.kubectl(['create', '-f', '-', '-o', 'json'], { input: manifest });
    assert.equal(created.code, 0, created.stderr);
    const spec = JSON.parse(created.stdout).spec;
    assert.equal(spec.views.refreshSchedule, '0 * * * *');
    assert.equal(spec.validation.thresholds.wardQueryP95Ms, 100);
    assert.equal(spec.connection.uriKey, 'uri');
    assert.equal(spec.suspend, false);
  });

  test('a 6-field cron schedule is refused saying why', async () => {
    const stderr = await rejected(resource('LokdarpanDatabase', '  connection: {secretName: db}\n  views: {refreshSchedule: "0 0 * * * *"}\n'));
    assert.match(stderr, /spec.views.refreshSchedule: Invalid value: "0 0 \* \* \* \*": must be a standard 5-field cron expression/);
    assert.match(stderr, /6-field forms with seconds/);
  });

  test('cron fields are range-checked by the API server, with the same verdicts as the operator', async () => {
    const stderr = await rejected(resource('LokdarpanDatabase', '  connection: {secretName: db}\n  views: {refreshSchedule: "61 * * * *"}\n'));
    assert.match(stderr, /spec.views.refreshSchedule: Invalid value: "61 \* \* \* \*": minute \(1st field\) must be 0-59/);
    // Every case in one server-side dry run: kubectl reports each object it could not create.
    const cases = [...VALID_SCHEDULES.map((e) => [e, undefined] as const), ...INVALID_SCHEDULES];
    const manifests = cases.map(([expression], i) =>
      `apiVersion: lokdarpan.io/v1alpha1\nkind: RetentionPolicy\nmetadata: {name: cron-${i}, namespace: lokdarpan}\nspec:\n  databaseRef: {name: db}\n  schedule: ${JSON.stringify(expression)}\n`,
    );
    const result = await kube.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: manifests.join('---\n') });
    for (const [i, [expression, problem]] of cases.entries()) {
      const accepted = new RegExp(`retentionpolicy.lokdarpan.io/cron-${i} created \\(server dry run\\)`).test(result.stdout);
      assert.equal(accepted, problem === undefined, `API server ${accepted ? 'accepted' : 'refused'} "${expression}"\n${result.stderr}`);
      assert.equal(accepted, checkCronExpression(expression) === undefined, `the operator judges "${expression}" differently from the API server`);
      if (problem === undefined) continue;
      const line = result.stderr.split('\n').find((l) => l.includes(`"cron-${i}"`)) ?? '';
      assert.match(line, problem, `message for "${expression}"`);
    }
  });

  test('an unknown time zone is refused', async () => {
    const stderr = await rejected(
      resource('RetentionPolicy', '  databaseRef: {name: db}\n  schedule: "0 3 * * *"\n  timeZone: Asia/Atlantis\n'),
    );
    assert.match(stderr, /spec.timeZone.*must be an IANA time zone name/);
  });

  test('negative numbers, bad durations and keys are refused', async () => {
    const stderr = await rejected(
      resource(
        'BackupPolicy',
        [
          '  databaseRef: {name: db}',
          '  schedule: "0 2 * * *"',
          '  destination: {name: primary, bucket: backups, credentialsSecret: s3}',
          '  recipients: [age1notakey]',
          '  retention: {keepDaily: -1, maxAge: 3 days}',
          '',
        ].join('\n'),
      ),
    );
    assert.match(stderr, /spec.retention.keepDaily: Invalid value: -1: .*greater than or equal to 0/);
    assert.match(stderr, /spec.retention.maxAge/);
    assert.match(stderr, /spec.recipients\[0\]/);
  });

  test('missing required fields are named', async () => {
    const stderr = await rejected(resource('BackupPolicy', '  schedule: "0 2 * * *"\n'));
    for (const field of ['databaseRef', 'destination', 'recipients']) assert.match(stderr, new RegExp(`spec.${field}: Required value`));
  });

  test('cross-field rules are enforced (Restore needs exactly one source)', async () => {
    const stderr = await rejected(resource('Restore', '  target: {connectionSecret: db}\n  identitySecret: {name: id}\n'));
    assert.match(stderr, /set exactly one of backupRef and source/);
  });
});
