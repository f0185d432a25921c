// `npm run testenv`: argument parsing and the printed connection details (the real start and stop are
// run by bench/testenv.ts and test/integration/env-cli.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bucketName,
  formatDetails,
  formatStartTimings,
  formatStopTimings,
  parseCliArgs,
  UsageError,
  type ConnectionDetails,
} from '../../env/cli.ts';

test('defaults: PostgreSQL 15, database lokdarpan, text output', () => {
  assert.deepEqual(parseCliArgs([]), {
    help: false, pgMajor: 15, database: 'lokdarpan', crds: false, json: false, printTimings: false,
  });
});

test('every option', () => {
  assert.deepEqual(parseCliArgs(['--pg', '18', '--json', '--print-timings', '--crds', '--database', 'ward_db']), {
    help: false, pgMajor: 18, database: 'ward_db', crds: true, json: true, printTimings: true,
  });
  assert.equal(parseCliArgs(['--pg=18']).pgMajor, 18);
  assert.equal(parseCliArgs(['-h']).help, true);
  assert.equal(parseCliArgs(['--help']).help, true);
});

test('bad arguments are usage errors', () => {
  for (const argv of [['--pg', '16'], ['--pg', 'x'], ['--database', 'Bad-Name'], ['--database', '1db'], ['--nope'], ['extra'], ['--pg']]) {
    assert.throws(() => parseCliArgs(argv), UsageError, argv.join(' '));
  }
});

const details: ConnectionDetails = {
  kubernetes: {
    version: 'v1.37.2',
    server: 'https://127.0.0.1:6443',
    kubeconfig: '/tmp/k/admin.kubeconfig',
    exportLine: 'export KUBECONFIG=/tmp/k/admin.kubeconfig',
    caFile: '/tmp/k/certs/apiserver.crt',
    adminToken: 'tok',
    kubectl: '/bin/kubectl',
    kubeControllerManager: true,
    dir: '/tmp/k',
  },
  postgres: {
    major: 15,
    version: '15.18',
    host: '127.0.0.1',
    port: 5432,
    database: 'lokdarpan',
    superuserUrl: 'postgres://postgres:su@127.0.0.1:5432/lokdarpan',
    appUrl: 'postgres://lokdarpan_owner:app@127.0.0.1:5432/lokdarpan',
    appUser: 'lokdarpan_owner',
    binDir: '/usr/lib/postgresql/15/bin',
    logFile: '/tmp/pg/postgres.log',
  },
  s3: {
    primary: {
      endpoint: 'http://127.0.0.1:9000', region: 'ap-south-1', accessKeyId: 'AK1', secretAccessKey: 'SK1',
      bucket: 'lokdarpan-backups-ap-south-1', forcePathStyle: true, logFile: '/tmp/s1/weed.log',
    },
    secondary: {
      endpoint: 'http://127.0.0.1:9100', region: 'ap-south-2', accessKeyId: 'AK2', secretAccessKey: 'SK2',
      bucket: 'lokdarpan-backups-ap-south-2', forcePathStyle: true, logFile: '/tmp/s2/weed.log',
    },
  },
};

test('the text output names every way in', () => {
  const text = formatDetails(details);
  const lines = text.split('\n').map((l) => l.trim());
  assert.ok(lines.includes('export KUBECONFIG=/tmp/k/admin.kubeconfig'), 'a line to paste into a shell');
  for (const needle of [
    'https://127.0.0.1:6443', '/tmp/k/admin.kubeconfig', details.postgres.superuserUrl, details.postgres.appUrl,
    "/usr/lib/postgresql/15/bin/psql 'postgres://lokdarpan_owner:app@127.0.0.1:5432/lokdarpan'",
    'http://127.0.0.1:9000', 'http://127.0.0.1:9100', 'ap-south-1', 'ap-south-2', 'AK1', 'SK1', 'AK2', 'SK2',
    'lokdarpan-backups-ap-south-1', 'lokdarpan-backups-ap-south-2', 'kube-controller-manager',
  ]) {
    assert.ok(text.includes(needle), `missing ${needle}`);
  }
  const withoutKcm = formatDetails({ ...details, kubernetes: { ...details.kubernetes, kubeControllerManager: false } });
  assert.ok(!withoutKcm.includes('kube-controller-manager'));
});

test('timings are printed in seconds per part', () => {
  const start = formatStartTimings({
    kube: { etcdReadyMs: 700, apiserverReadyMs: 2600, kcmReadyMs: 200, totalMs: 4200 },
    postgresMs: 900, databaseMs: 150, s3Ms: 2100, bucketsMs: 20, totalMs: 4300,
  });
  assert.match(start, /^started in 4\.3 s/);
  assert.match(start, /kubernetes {2}4\.2 s {2}\(etcd 0\.7 s, kube-apiserver 2\.6 s, kube-controller-manager 0\.2 s\)/);
  assert.match(start, /postgres {4}1\.1 s/);
  assert.match(start, /s3 {10}2\.1 s/);
  assert.equal(
    formatStopTimings({ kubeMs: 1200, postgresMs: 100, s3Ms: 2300, totalMs: 2300 }),
    'stopped in 2.3 s (kubernetes 1.2 s, postgres 0.1 s, s3 2.3 s)',
  );
});

test('bucket names carry the region', () => {
  assert.equal(bucketName('ap-south-2'), 'lokdarpan-backups-ap-south-2');
});
