// The observability kit (manifests/observability/) against the operator's real registry: every alert
// and dashboard query parses with Prometheus's PromQL grammar and selects only metrics (and labels)
// the operator exports; every alert carries the annotations on-call needs; docs/metrics.md lists
// every metric.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { createOperatorMetrics } from '../../../src/observability/metrics.ts';
import { createDomainMetrics, DOMAIN_METRIC_DEFINITIONS, DOMAIN_METRIC_NAMES } from '../../../src/observability/domain-metrics/index.ts';
import { checkExpression, exportedSeries, parsePromQL, substituteGrafanaVariables } from './promql-check.ts';

const root = new URL('../../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

function knownSeries() {
  const registry = new Registry();
  const metrics = createOperatorMetrics(registry);
  createDomainMetrics(metrics);
  return exportedSeries(registry);
}

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

function loadRules(): Rule[] {
  const doc = parseYaml(read('manifests/observability/prometheusrule.yaml')) as { apiVersion: string; kind: string; spec: { groups: Array<{ name: string; rules: Rule[] }> } };
  assert.equal(doc.apiVersion, 'monitoring.coreos.com/v1');
  assert.equal(doc.kind, 'PrometheusRule');
  return doc.spec.groups.flatMap((g) => g.rules);
}

interface Panel {
  title?: string;
  type?: string;
  targets?: Array<{ expr?: string; refId?: string }>;
  panels?: Panel[];
}

function loadDashboard() {
  return JSON.parse(read('manifests/observability/grafana-dashboard.json')) as {
    uid: string;
    panels: Panel[];
    templating: { list: Array<{ name: string; type: string; query?: unknown; definition?: string }> };
  };
}

function dashboardQueries(): Array<{ where: string; expr: string }> {
  const dashboard = loadDashboard();
  const out: Array<{ where: string; expr: string }> = [];
  const walk = (panels: Panel[]) => {
    for (const panel of panels) {
      for (const target of panel.targets ?? []) {
        if (target.expr !== undefined) out.push({ where: `panel "${panel.title}" target ${target.refId}`, expr: substituteGrafanaVariables(target.expr) });
      }
      walk(panel.panels ?? []);
    }
  };
  walk(dashboard.panels);
  for (const variable of dashboard.templating.list) {
    if (variable.type !== 'query') continue;
    const query = typeof variable.query === 'string' ? variable.query : (variable.query as { query: string }).query;
    // Grafana's label_values(<series selector>, <label>) wraps a PromQL selector.
    const match = /^label_values\((.+),\s*([A-Za-z_][A-Za-z0-9_]*)\)$/.exec(query);
    assert.ok(match, `variable ${variable.name}: unexpected query ${query}`);
    out.push({ where: `variable ${variable.name}`, expr: match[1]! });
  }
  return out;
}

describe('PromQL checker', () => {
  const known = knownSeries();

  it('accepts a valid expression over exported metrics, histogram series and target labels', () => {
    assert.deepEqual(checkExpression('sum by (le) (rate(lokdarpan_backup_duration_seconds_bucket{namespace="a", job="x"}[5m]))', known), []);
    assert.deepEqual(checkExpression('process_resident_memory_bytes + on (instance) nodejs_eventloop_lag_p99_seconds', known), []);
  });

  it('catches a metric name the operator does not export', () => {
    assert.deepEqual(checkExpression('rate(lokdarpan_backups_bogus_total[5m]) > 0', known), ['unknown metric lokdarpan_backups_bogus_total']);
    // A histogram's base name is not a series; its _bucket/_sum/_count are.
    assert.deepEqual(checkExpression('lokdarpan_backup_duration_seconds', known), ['unknown metric lokdarpan_backup_duration_seconds']);
    // A counter has no _bucket.
    assert.deepEqual(checkExpression('lokdarpan_backup_failures_total_bucket', known), ['unknown metric lokdarpan_backup_failures_total_bucket']);
    assert.deepEqual(checkExpression('{__name__="lokdarpan_nope"}', known), ['unknown metric lokdarpan_nope']);
  });

  it('catches a matcher or a grouping on a label the metric does not have', () => {
    assert.deepEqual(checkExpression('lokdarpan_backup_bytes{polcy="p"}', known), ['lokdarpan_backup_bytes has no label polcy']);
    assert.deepEqual(checkExpression('sum by (namespace, destination) (lokdarpan_backups_pruned_total)', known), [
      'by (destination): none of lokdarpan_backups_pruned_total has label destination',
    ]);
    assert.deepEqual(checkExpression('sum by (le, namespace) (rate(lokdarpan_backup_duration_seconds_bucket[5m]))', known), []);
  });

  it('catches syntax errors and a range function given an instant vector', () => {
    for (const bad of ['sum(rate(lokdarpan_backup_failures_total[5m])', 'lokdarpan_database_ready{namespace="a"', 'rate(lokdarpan_backup_failures_total[$job])', 'lokdarpan_database_ready >', 'not_a_function(lokdarpan_database_ready)']) {
      assert.ok(parsePromQL(bad).errors.length > 0, `no syntax error found in ${bad}`);
    }
    assert.match(checkExpression('rate(lokdarpan_backup_failures_total)', known).join(), /needs a range vector/);
  });

  it('refuses selectors it cannot check', () => {
    assert.match(checkExpression('{__name__=~"lokdarpan_.*"}', known).join(), /cannot tell/);
    assert.match(checkExpression('{namespace="a"}', known).join(), /without a metric name/);
  });
});

describe('PrometheusRule', () => {
  const known = knownSeries();
  const rules = loadRules();

  it('has the alerts the operations guide promises', () => {
    const names = rules.map((r) => r.alert);
    for (const expected of [
      'LokdarpanBackupMissing',
      'LokdarpanBackupReplicaFailing',
      'LokdarpanRestoreDrillFailing',
      'LokdarpanRestoreDrillStale',
      'LokdarpanMigrationStalled',
      'LokdarpanDatabaseStalled',
      'LokdarpanDatabaseNotReady',
      'LokdarpanViewsStale',
      'LokdarpanPerformanceDegraded',
      'LokdarpanRetentionFailing',
      'LokdarpanOperatorDown',
      'LokdarpanOperatorNoLeader',
      'LokdarpanReconcileErrorsHigh',
    ]) {
      assert.ok(names.includes(expected), `missing alert ${expected}`);
    }
    assert.equal(new Set(names).size, names.length, 'alert names must be unique');
  });

  it('every expression parses and selects only exported metrics and labels', () => {
    const problems = rules.flatMap((r) => checkExpression(r.expr, known).map((p) => `${r.alert ?? r.record}: ${p}`));
    assert.deepEqual(problems, []);
  });

  it('the backup alert uses the expected interval', () => {
    const rule = rules.find((r) => r.alert === 'LokdarpanBackupMissing');
    const metrics = parsePromQL(rule?.expr ?? '').selectors.map((s) => s.metric);
    assert.ok(metrics.includes('lokdarpan_backup_expected_interval_seconds'));
    assert.ok(metrics.includes('lokdarpan_backup_last_success_timestamp_seconds'));
    assert.match(rule?.expr ?? '', /1\.5 \*/);
  });

  it('every alert has a severity, summary, description and a runbook in docs/operations.md', () => {
    for (const rule of rules) {
      assert.ok(rule.alert, `recording rule ${rule.record} is not expected here`);
      assert.match(rule.labels?.['severity'] ?? '', /^(critical|warning|info)$/, `${rule.alert}: severity`);
      assert.ok((rule.annotations?.['summary'] ?? '').length > 10, `${rule.alert}: summary`);
      assert.ok((rule.annotations?.['description'] ?? '').length > 20, `${rule.alert}: description`);
      assert.equal(rule.annotations?.['runbook_url'], `docs/operations.md#${rule.alert.toLowerCase()}`, `${rule.alert}: runbook_url`);
      if (rule.for !== undefined) assert.match(rule.for, /^\d+[smhd]$/, `${rule.alert}: for`);
    }
  });

  it('every runbook anchor is a heading of docs/operations.md', (t) => {
    const path = new URL('docs/operations.md', root);
    if (!existsSync(path)) {
      t.skip('docs/operations.md is not written yet');
      return;
    }
    const anchors = new Set(
      read('docs/operations.md')
        .split('\n')
        .filter((l) => /^#{1,6} /.test(l))
        .map((l) => l.replace(/^#+ /, '').trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-')),
    );
    const missing = rules.map((r) => r.annotations?.['runbook_url']?.split('#')[1]).filter((a) => a !== undefined && !anchors.has(a));
    assert.deepEqual(missing, []);
  });
});

describe('Grafana dashboard', () => {
  const known = knownSeries();

  it('has a namespace variable and panels for every area', () => {
    const dashboard = loadDashboard();
    assert.ok(dashboard.templating.list.some((v) => v.name === 'namespace'));
    const titles = dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title);
    assert.deepEqual(titles, ['Overview', 'Databases', 'Backups and restores', 'Retention', 'Operator']);
  });

  it('every panel target and variable query parses and selects only exported metrics and labels', () => {
    const queries = dashboardQueries();
    assert.ok(queries.length > 40, `only ${queries.length} queries found`);
    const problems = queries.flatMap((q) => checkExpression(q.expr, known).map((p) => `${q.where}: ${p}`));
    assert.deepEqual(problems, []);
  });

  it('graphs every domain metric somewhere', () => {
    const used = new Set(dashboardQueries().flatMap((q) => parsePromQL(q.expr).selectors.map((s) => s.metric?.replace(/_(bucket|sum|count)$/, ''))));
    const missing = DOMAIN_METRIC_NAMES.filter((n) => !used.has(n) && !used.has(n.replace(/_(bucket|sum|count)$/, '')));
    assert.deepEqual(missing, []);
  });
});

describe('docs/metrics.md', () => {
  it('has a row for every domain metric with its type and labels', () => {
    const doc = read('docs/metrics.md');
    for (const d of DOMAIN_METRIC_DEFINITIONS) {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`${d.name}\` |`));
      assert.ok(row, `docs/metrics.md has no row for ${d.name}`);
      const cells = row.split(' | ').map((c) => c.trim());
      assert.equal(cells[1], d.type, `${d.name}: type`);
      assert.equal(cells[2], d.labelNames.map((l) => `\`${l}\``).join(', '), `${d.name}: labels`);
    }
  });

  it('names every runtime metric too', () => {
    const doc = read('docs/metrics.md');
    const registry = new Registry();
    createOperatorMetrics(registry, { defaultMetrics: false });
    for (const metric of registry.getMetricsAsArray()) assert.ok(doc.includes(`\`${metric.name}\``), `docs/metrics.md does not name ${metric.name}`);
  });
});

describe('kustomization', () => {
  it('renders the ServiceMonitor, the PrometheusRule and the dashboard ConfigMap (kubectl kustomize)', (t) => {
    const run = spawnSync('kubectl', ['kustomize', fileURLToPath(new URL('manifests/observability', root))], { encoding: 'utf8' });
    if (run.error && (run.error as NodeJS.ErrnoException).code === 'ENOENT') {
      t.skip('kubectl is not on PATH');
      return;
    }
    assert.equal(run.status, 0, run.stderr);
    const objects = parseAllDocuments(run.stdout).map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; data?: Record<string, string>; spec?: { endpoints?: Array<{ honorLabels?: boolean }> } });
    assert.deepEqual(objects.map((o) => o.kind).sort(), ['ConfigMap', 'PrometheusRule', 'ServiceMonitor']);
    for (const o of objects) assert.equal(o.metadata.namespace, 'lokdarpan-system');
    const configMap = objects.find((o) => o.kind === 'ConfigMap');
    assert.equal(configMap?.metadata.labels?.['grafana_dashboard'], '1');
    assert.deepEqual(JSON.parse(configMap?.data?.['lokdarpan-operator.json'] ?? '{}'), loadDashboard());
    const monitor = objects.find((o) => o.kind === 'ServiceMonitor');
    assert.equal(monitor?.spec?.endpoints?.[0]?.honorLabels, true, 'the metrics\' own namespace label must win over the target\'s');
  });
});
