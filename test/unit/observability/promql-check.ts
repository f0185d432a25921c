// Checks PromQL the way the observability kit needs: parse with Prometheus's own grammar
// (@prometheus-io/lezer-promql, the parser behind the Prometheus UI's editor), fail on any error
// node, and list every metric name and label matcher the expression selects, so a test can hold
// them against the metrics the operator really registers.
import { parser } from '@prometheus-io/lezer-promql';
import type { SyntaxNode } from '@lezer/common';
import { Histogram, Summary, type Registry } from 'prom-client';

export interface Selector {
  /** Metric name, or undefined when the selector has no fixed name (only label matchers). */
  metric: string | undefined;
  /** Label names used in the selector's matchers (`__name__` excluded). */
  labels: string[];
}

/** An aggregation's `by (...)` labels and the metrics it aggregates over. */
export interface Grouping {
  labels: string[];
  metrics: string[];
}

export interface ParsedExpression {
  expression: string;
  /** "offset: message" for each syntax error; empty when the expression parses. */
  errors: string[];
  selectors: Selector[];
  groupings: Grouping[];
}

/** Grafana's built-in range variables, replaced by a duration before parsing (as Grafana does before sending). */
const GRAFANA_RANGE_VARIABLES = /\$__(rate_interval|interval|range)\b|\$\{__(rate_interval|interval|range)\}/g;

export function substituteGrafanaVariables(expression: string): string {
  return expression.replace(GRAFANA_RANGE_VARIABLES, '5m');
}

/** Functions whose argument must be a range vector (a type error the grammar alone lets through). */
const RANGE_FUNCTIONS = new Set([
  'rate', 'irate', 'increase', 'delta', 'idelta', 'deriv', 'predict_linear', 'resets', 'changes',
  'avg_over_time', 'min_over_time', 'max_over_time', 'sum_over_time', 'count_over_time', 'quantile_over_time',
  'stddev_over_time', 'stdvar_over_time', 'last_over_time', 'present_over_time', 'absent_over_time',
  'holt_winters', 'double_exponential_smoothing',
]);

function text(source: string, node: SyntaxNode): string {
  return source.slice(node.from, node.to);
}

function unquote(literal: string): string {
  // PromQL string literals: "..." or '...' with Go escapes, or `raw`. Names never hold escapes.
  return literal.slice(1, -1);
}

export function parsePromQL(expression: string): ParsedExpression {
  const tree = parser.parse(expression);
  const errors: string[] = [];
  const selectors: Selector[] = [];
  const groupings: Grouping[] = [];
  tree.iterate({
    enter(ref) {
      if (ref.type.isError) {
        errors.push(`${ref.from}: syntax error near "${expression.slice(Math.max(0, ref.from - 10), ref.to + 10)}"`);
        return;
      }
      if (ref.name === 'FunctionCall') {
        const fn = ref.node.getChild('FunctionIdentifier');
        const name = fn ? text(expression, fn) : '';
        if (RANGE_FUNCTIONS.has(name)) {
          const body = ref.node.getChild('FunctionCallBody');
          let hasRange = false;
          for (let a = body?.firstChild ?? null; a; a = a.nextSibling) if (a.name === 'MatrixSelector' || a.name === 'SubqueryExpr') hasRange = true;
          if (!hasRange) errors.push(`${ref.from}: ${name}() needs a range vector argument such as metric[5m]`);
        }
        return;
      }
      if (ref.name === 'AggregateExpr') {
        const modifier = ref.node.getChild('AggregateModifier');
        if (!modifier?.getChild('By')) return;
        const labels = (modifier.getChild('GroupingLabels')?.getChildren('LabelName') ?? []).map((n) => text(expression, n));
        const metrics: string[] = [];
        const body = ref.node.getChild('FunctionCallBody');
        body?.toTree().iterate({
          enter(inner) {
            if (inner.name === 'VectorSelector') {
              const id = inner.node.getChild('Identifier');
              if (id) metrics.push(expression.slice(body.from + id.from, body.from + id.to));
            }
          },
        });
        groupings.push({ labels, metrics });
        return;
      }
      if (ref.name !== 'VectorSelector') return;
      const node = ref.node;
      let metric: string | undefined;
      const identifier = node.getChild('Identifier');
      if (identifier) metric = text(expression, identifier);
      const labels: string[] = [];
      const matchers = node.getChild('LabelMatchers');
      for (let m = matchers?.firstChild ?? null; m; m = m.nextSibling) {
        if (m.name === 'QuotedLabelName') {
          // A quoted metric name inside the braces: {"metric_name", ...}.
          metric = unquote(text(expression, m));
          continue;
        }
        const nameNode = m.getChild('LabelName') ?? m.getChild('QuotedLabelName');
        if (!nameNode) continue;
        const name = nameNode.name === 'QuotedLabelName' ? unquote(text(expression, nameNode)) : text(expression, nameNode);
        if (name === '__name__') {
          const op = m.getChild('MatchOp');
          const value = m.getChild('StringLiteral');
          if (op && value && text(expression, op) === '=') metric = unquote(text(expression, value));
          else errors.push(`${m.from}: __name__ matched by "${op ? text(expression, op) : '?'}": the checker cannot tell which metrics that selects`);
          continue;
        }
        labels.push(name);
      }
      selectors.push({ metric, labels });
    },
  });
  if (tree.length !== expression.length) errors.push(`parser stopped at ${tree.length} of ${expression.length} characters`);
  return { expression, errors, selectors, groupings };
}

export interface KnownMetric {
  labels: ReadonlySet<string>;
}

/**
 * The series names a registry exports with their label names: counters and gauges by name,
 * histograms as name_bucket (with le), name_sum and name_count, summaries as name, name_sum, name_count.
 */
export function exportedSeries(registry: Registry): Map<string, KnownMetric> {
  const series = new Map<string, KnownMetric>();
  for (const metric of registry.getMetricsAsArray()) {
    const labelNames: unknown = Reflect.get(metric, 'labelNames');
    const labels = new Set(Array.isArray(labelNames) ? labelNames.map(String) : []);
    if (metric instanceof Histogram) {
      series.set(`${metric.name}_bucket`, { labels: new Set([...labels, 'le']) });
      series.set(`${metric.name}_sum`, { labels });
      series.set(`${metric.name}_count`, { labels });
    } else if (metric instanceof Summary) {
      series.set(metric.name, { labels: new Set([...labels, 'quantile']) });
      series.set(`${metric.name}_sum`, { labels });
      series.set(`${metric.name}_count`, { labels });
    } else {
      series.set(metric.name, { labels });
    }
  }
  return series;
}

/** Labels Prometheus adds at scrape time (Prometheus Operator ServiceMonitor target labels). */
export const TARGET_LABELS: ReadonlySet<string> = new Set(['job', 'instance', 'namespace', 'pod', 'service', 'container', 'endpoint']);
/** Series Prometheus itself writes for every target. */
export const SYNTHETIC_SERIES: ReadonlyMap<string, KnownMetric> = new Map([
  ['up', { labels: new Set<string>() }],
  ['scrape_duration_seconds', { labels: new Set<string>() }],
]);

/** Every problem with one expression: syntax errors, unknown metrics, matchers on labels the metric does not have. */
export function checkExpression(expression: string, known: ReadonlyMap<string, KnownMetric>): string[] {
  const parsed = parsePromQL(expression);
  const problems = [...parsed.errors];
  if (parsed.selectors.length === 0 && problems.length === 0) problems.push('selects no metric');
  for (const selector of parsed.selectors) {
    if (selector.metric === undefined) {
      problems.push(`a selector without a metric name ({${selector.labels.join(', ')}}) cannot be checked`);
      continue;
    }
    const metric = known.get(selector.metric) ?? SYNTHETIC_SERIES.get(selector.metric);
    if (!metric) {
      problems.push(`unknown metric ${selector.metric}`);
      continue;
    }
    for (const label of selector.labels) {
      if (!metric.labels.has(label) && !TARGET_LABELS.has(label)) problems.push(`${selector.metric} has no label ${label}`);
    }
  }
  for (const grouping of parsed.groupings) {
    const available = new Set([...TARGET_LABELS]);
    for (const name of grouping.metrics) for (const label of (known.get(name) ?? SYNTHETIC_SERIES.get(name))?.labels ?? []) available.add(label);
    for (const label of grouping.labels) {
      if (!available.has(label)) problems.push(`by (${label}): none of ${grouping.metrics.join(', ') || 'the aggregated metrics'} has label ${label}`);
    }
  }
  return problems;
}
