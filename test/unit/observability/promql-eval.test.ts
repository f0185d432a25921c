// The one-scrape PromQL evaluator (promql-eval.ts) the metrics integration test judges the shipped
// alerts with: each construct the rules use, Prometheus's matching and labelling rules, and which
// shipped rules it can and cannot evaluate.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { evaluate, parseExposition, type Sample } from './promql-eval.ts';

const s = (name: string, labels: Record<string, string>, value: number): Sample => ({ labels: { __name__: name, ...labels }, value });
const at = new Date('2026-03-01T12:00:00Z');
const now = at.getTime() / 1000;
const run = (expression: string, samples: Sample[]) =>
  evaluate(expression, samples, { time: at })
    .map((x) => ({ labels: { ...x.labels }, value: x.value }))
    .sort((a, b) => JSON.stringify(a.labels).localeCompare(JSON.stringify(b.labels)));

describe('PromQL evaluator (one instant, one scrape)', () => {
  const data = [
    s('up', { job: 'a', instance: 'i1' }, 1),
    s('up', { job: 'b', instance: 'i2' }, 0),
    s('x', { namespace: 'n', policy: 'p', instance: 'i1' }, 5),
    s('x', { namespace: 'n', policy: 'p', instance: 'i2' }, 7),
    s('x', { namespace: 'n', policy: 'q', instance: 'i1' }, 1),
  ];

  it('selects by name and = matchers', () => {
    assert.deepEqual(run('up{job="a"}', data), [{ labels: { __name__: 'up', job: 'a', instance: 'i1' }, value: 1 }]);
    assert.deepEqual(run('nothing', data), []);
  });

  it('comparisons with a scalar filter and keep the sample as it is; arithmetic drops the name', () => {
    assert.deepEqual(run('x > 4', data).map((x) => x.value), [5, 7]);
    assert.deepEqual(run('x >= 5', data).map((x) => x.value), [5, 7]);
    assert.deepEqual(run('x == 1', data)[0]?.labels.__name__, 'x');
    assert.deepEqual(run('x < 2', data).map((x) => x.value), [1]);
    assert.deepEqual(run('2 < x', data).map((x) => x.value), [5, 7], 'scalar on the left: still the vector value');
    const diff = run('100 - x{policy="q"}', data);
    assert.deepEqual(diff, [{ labels: { namespace: 'n', policy: 'q', instance: 'i1' }, value: 99 }]);
    assert.deepEqual(run('0 * x{policy="q"}', data)[0]?.value, 0);
    assert.deepEqual(run('x{policy="q"} / 4', data)[0]?.value, 0.25);
  });

  it('time() is the evaluation time in seconds', () => {
    assert.deepEqual(run('time() - up{job="a"}', data)[0]?.value, now - 1);
  });

  it('max by and sum by keep only the by labels', () => {
    assert.deepEqual(run('max by (namespace, policy) (x)', data), [
      { labels: { namespace: 'n', policy: 'p' }, value: 7 },
      { labels: { namespace: 'n', policy: 'q' }, value: 1 },
    ]);
    assert.deepEqual(run('sum by (namespace) (x)', data), [{ labels: { namespace: 'n' }, value: 13 }]);
  });

  it('and / or, with and without on (...)', () => {
    assert.deepEqual(run('x and on (instance) (up == 1)', data).map((x) => x.labels.instance), ['i1', 'i1']);
    assert.deepEqual(run('x and on (instance) (up == 2)', data), []);
    assert.deepEqual(run('x{policy="p"} and x{instance="i2"}', data).map((x) => x.value), [7], 'all labels match');
    const or = run('max by (policy) (x{policy="p"}) or 0 * max by (policy) (x)', data);
    assert.deepEqual(or, [
      { labels: { policy: 'p' }, value: 7 },
      { labels: { policy: 'q' }, value: 0 },
    ]);
  });

  it('vector to vector comparison: one-to-one, on (...) keeps only those labels; without on: all labels but the name', () => {
    const samples = [s('a', { namespace: 'n', policy: 'p', extra: 'e' }, 10), s('b', { namespace: 'n', policy: 'p' }, 5), s('a', { namespace: 'n', policy: 'q', extra: 'e' }, 1), s('b', { namespace: 'n', policy: 'q' }, 5)];
    assert.deepEqual(run('a > on (namespace, policy) b', samples), [{ labels: { namespace: 'n', policy: 'p' }, value: 10 }]);
    assert.deepEqual(run('a > b', samples), [], 'extra label: no match without on');
    assert.deepEqual(run('max by (policy) (a) > max by (policy) (b)', samples), [{ labels: { policy: 'p' }, value: 10 }]);
    assert.deepEqual(run('max by (policy) (a) - max by (policy) (b)', samples).map((x) => x.value).sort(), [-4, 5]);
    assert.throws(() => run('a > on (namespace) b', samples), /many-to-many/);
  });

  it('absent: one sample with the selector\'s = labels when empty, nothing otherwise', () => {
    assert.deepEqual(run('absent(up{job="c"})', data), [{ labels: { job: 'c' }, value: 1 }]);
    assert.deepEqual(run('absent(up{job="b"} == 1)', data), [{ labels: {}, value: 1 }]);
    assert.deepEqual(run('absent(up{job="a"} == 1)', data), []);
  });

  it('refuses what it does not implement instead of guessing', () => {
    assert.throws(() => run('rate(x[5m])', data), /unsupported.*rate/);
    assert.throws(() => run('x{job=~"a.*"}', data), /unsupported.*=~/);
    assert.throws(() => run('x > ignoring (instance) x', data), /unsupported/);
    assert.throws(() => run('avg by (policy) (x)', data), /unsupported/);
    assert.throws(() => run('x > bool 1', data), /unsupported/);
    assert.throws(() => run('x >', data), /syntax error/);
  });

  it('reads a text exposition, with the target labels a scrape adds', () => {
    const samples = parseExposition(
      ['# HELP a_total A.', '# TYPE a_total counter', 'a_total{policy="p",msg="say \\"hi\\"\\n"} 3', 'b 1.5', 'c_bucket{le="+Inf"} 2', 'd NaN', ''].join('\n'),
      { job: 'j', instance: 'i' },
    );
    assert.deepEqual(samples[0], { labels: { job: 'j', instance: 'i', __name__: 'a_total', policy: 'p', msg: 'say "hi"\n' }, value: 3 });
    assert.equal(samples[1]?.value, 1.5);
    assert.equal(samples[2]?.labels.le, '+Inf');
    assert.ok(Number.isNaN(samples[3]?.value));
  });

  it('evaluates every shipped alert except the three built on rates of counters over time', () => {
    const rule = parseYaml(readFileSync(new URL('../../../manifests/observability/prometheusrule.yaml', import.meta.url), 'utf8')) as {
      spec: { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
    };
    const refused: string[] = [];
    for (const r of rule.spec.groups.flatMap((g) => g.rules)) {
      try {
        evaluate(r.expr, data, { time: at });
      } catch (error) {
        assert.match(String(error), /unsupported by this evaluator: function (rate|increase|histogram_quantile)/, r.alert);
        refused.push(r.alert);
      }
    }
    assert.deepEqual(refused, ['LokdarpanReconcileErrorsHigh', 'LokdarpanReconcilePanics', 'LokdarpanWorkqueueSlow']);
  });
});
