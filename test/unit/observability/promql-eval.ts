// A PromQL evaluator for one instant and one scrape: exactly the constructs the shipped alert rules
// (manifests/observability/prometheusrule.yaml) use on instant vectors, so a test can ask "would this
// alert's expression be non-empty for these samples?". Parsing is Prometheus's own grammar
// (@prometheus-io/lezer-promql); anything outside the subset throws instead of guessing:
// - vector selectors with `=` matchers; number literals; parentheses; `time()`; `absent(...)`;
// - `max by (...)`, `sum by (...)`;
// - binary `+ - * /`, comparisons `== > >= <` (filtering, no `bool`), `and`, `or`, with an optional
//   `on (...)` (one-to-one only, like the rules; no `ignoring`, no `group_left/right`).
// Range functions (rate, increase, histogram_quantile over rates) need samples over time and throw:
// the rules that use them cannot be judged from one scrape. `for:` durations are not modelled either.
import { parser } from '@prometheus-io/lezer-promql';
import type { SyntaxNode } from '@lezer/common';

export type Labels = Readonly<Record<string, string>>;

/** One sample; the metric name is the label `__name__`, as in Prometheus. */
export interface Sample {
  labels: Labels;
  value: number;
}

type Value = { kind: 'scalar'; value: number } | { kind: 'vector'; samples: Sample[] };

export interface EvalOptions {
  /** Evaluation time (for `time()`); default now. */
  time?: Date;
}

/** Evaluates `expression` against `samples` (one scrape); returns the resulting instant vector. */
export function evaluate(expression: string, samples: readonly Sample[], options: EvalOptions = {}): Sample[] {
  const tree = parser.parse(expression);
  const root = tree.topNode.firstChild;
  if (!root) throw new Error(`empty expression: ${expression}`);
  tree.iterate({
    enter(node) {
      if (node.type.isError) throw new Error(`syntax error at ${node.from} in ${expression}`);
    },
  });
  const context: Context = { source: expression, samples, time: (options.time ?? new Date()).getTime() / 1000 };
  const result = evalNode(context, root);
  if (result.kind !== 'vector') throw new Error(`${expression} is a scalar, alert expressions are vectors`);
  return result.samples;
}

interface Context {
  source: string;
  samples: readonly Sample[];
  time: number;
}

const text = (c: Context, node: SyntaxNode): string => c.source.slice(node.from, node.to);

function children(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let child = node.firstChild; child; child = child.nextSibling) out.push(child);
  return out;
}

function unsupported(c: Context, node: SyntaxNode, what: string): never {
  throw new Error(`unsupported by this evaluator: ${what} (${node.name} "${text(c, node)}")`);
}

function evalNode(c: Context, node: SyntaxNode): Value {
  switch (node.name) {
    case 'ParenExpr': {
      const inner = node.firstChild;
      if (!inner) return unsupported(c, node, 'empty parentheses');
      return evalNode(c, inner);
    }
    case 'NumberDurationLiteral': {
      const value = Number(text(c, node));
      if (Number.isNaN(value)) return unsupported(c, node, 'durations');
      return { kind: 'scalar', value };
    }
    case 'VectorSelector':
      return { kind: 'vector', samples: select(c, node) };
    case 'FunctionCall':
      return evalFunction(c, node);
    case 'AggregateExpr':
      return evalAggregate(c, node);
    case 'BinaryExpr':
      return evalBinary(c, node);
    default:
      return unsupported(c, node, 'this construct');
  }
}

/** The `=` matchers of a selector, the metric name as `__name__`. */
function matchers(c: Context, node: SyntaxNode): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const child of children(node)) {
    if (child.name === 'Identifier') out.push(['__name__', text(c, child)]);
    else if (child.name === 'LabelMatchers') {
      for (const matcher of children(child)) {
        const [name, op, literal] = children(matcher);
        if (matcher.name !== 'UnquotedLabelMatcher' || !name || !op || !literal) return unsupported(c, matcher, 'label matcher');
        if (text(c, op) !== '=') return unsupported(c, op, `matcher ${text(c, op)}`);
        out.push([text(c, name), JSON.parse(`"${text(c, literal).slice(1, -1)}"`) as string]);
      }
    } else return unsupported(c, child, 'selector part');
  }
  return out;
}

function select(c: Context, node: SyntaxNode): Sample[] {
  const wanted = matchers(c, node);
  return c.samples.filter((s) => wanted.every(([name, value]) => (s.labels[name] ?? '') === value));
}

function evalFunction(c: Context, node: SyntaxNode): Value {
  const [identifier, body] = children(node);
  const name = identifier ? text(c, identifier) : '';
  const args = body ? children(body) : [];
  if (name === 'time' && args.length === 0) return { kind: 'scalar', value: c.time };
  if (name === 'absent' && args.length === 1 && args[0]) {
    const argument = args[0];
    const value = evalNode(c, argument);
    if (value.kind !== 'vector') return unsupported(c, node, 'absent of a scalar');
    if (value.samples.length > 0) return { kind: 'vector', samples: [] };
    // Like Prometheus: a plain selector's `=` matchers become the labels of the single sample.
    const labels = argument.name === 'VectorSelector' ? Object.fromEntries(matchers(c, argument).filter(([k]) => k !== '__name__')) : {};
    return { kind: 'vector', samples: [{ labels, value: 1 }] };
  }
  return unsupported(c, node, `function ${name}`);
}

function evalAggregate(c: Context, node: SyntaxNode): Value {
  let op = '';
  let by: string[] | undefined;
  let argument: SyntaxNode | undefined;
  for (const child of children(node)) {
    if (child.name === 'AggregateOp') op = text(c, child);
    else if (child.name === 'AggregateModifier') {
      const [keyword, grouping] = children(child);
      if (!keyword || keyword.name !== 'By' || !grouping) return unsupported(c, child, 'aggregation modifier other than by');
      by = children(grouping).map((l) => text(c, l));
    } else if (child.name === 'FunctionCallBody') {
      const args = children(child);
      if (args.length !== 1) return unsupported(c, child, 'aggregation parameters');
      argument = args[0];
    }
  }
  if ((op !== 'max' && op !== 'sum') || !by || !argument) return unsupported(c, node, 'aggregation');
  const value = evalNode(c, argument);
  if (value.kind !== 'vector') return unsupported(c, node, 'aggregation of a scalar');
  const groups = new Map<string, Sample>();
  for (const sample of value.samples) {
    const labels = pick(sample.labels, by);
    const key = signature(labels);
    const current = groups.get(key);
    if (!current) groups.set(key, { labels, value: sample.value });
    else current.value = op === 'max' ? Math.max(current.value, sample.value) : current.value + sample.value;
  }
  return { kind: 'vector', samples: [...groups.values()] };
}

const ARITHMETIC: Record<string, (a: number, b: number) => number> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: (a, b) => a / b,
};
const COMPARISON: Record<string, (a: number, b: number) => boolean> = {
  Eql: (a, b) => a === b,
  Gtr: (a, b) => a > b,
  Gte: (a, b) => a >= b,
  Lss: (a, b) => a < b,
};

function evalBinary(c: Context, node: SyntaxNode): Value {
  const parts = children(node);
  const [leftNode, opNode] = parts;
  const rightNode = parts[parts.length - 1];
  if (!leftNode || !opNode || !rightNode) return unsupported(c, node, 'binary expression');
  let on: string[] | undefined;
  for (const modifier of parts.slice(2, -1)) {
    const [keyword, grouping, ...rest] = children(modifier);
    if (modifier.name !== 'MatchingModifierClause' || keyword?.name !== 'On' || !grouping || rest.length > 0) return unsupported(c, modifier, 'modifier other than on (...)');
    on = children(grouping).map((l) => text(c, l));
  }
  const op = opNode.name;
  const left = evalNode(c, leftNode);
  const right = evalNode(c, rightNode);

  if (op === 'And' || op === 'Or') {
    if (left.kind !== 'vector' || right.kind !== 'vector') return unsupported(c, node, 'set operator on a scalar');
    const key = (s: Sample) => signature(on ? pick(s.labels, on) : withoutName(s.labels));
    const rightKeys = new Set(right.samples.map(key));
    if (op === 'And') return { kind: 'vector', samples: left.samples.filter((s) => rightKeys.has(key(s))) };
    const leftKeys = new Set(left.samples.map(key));
    return { kind: 'vector', samples: [...left.samples, ...right.samples.filter((s) => !leftKeys.has(key(s)))] };
  }

  const arithmetic = ARITHMETIC[op];
  const comparison = COMPARISON[op];
  if (!arithmetic && !comparison) return unsupported(c, opNode, `operator ${text(c, opNode)}`);

  if (left.kind === 'scalar' && right.kind === 'scalar') {
    if (!arithmetic) return unsupported(c, node, 'comparison of two scalars');
    return { kind: 'scalar', value: arithmetic(left.value, right.value) };
  }
  if (left.kind === 'scalar' || right.kind === 'scalar') {
    if (on) return unsupported(c, node, 'on (...) with a scalar');
    const vector = left.kind === 'vector' ? left : (right as Extract<Value, { kind: 'vector' }>);
    const scalar = left.kind === 'scalar' ? left.value : (right as Extract<Value, { kind: 'scalar' }>).value;
    const pair = (v: number): [number, number] => (left.kind === 'vector' ? [v, scalar] : [scalar, v]);
    if (arithmetic) return { kind: 'vector', samples: vector.samples.map((s) => ({ labels: withoutName(s.labels), value: arithmetic(...pair(s.value)) })) };
    // A filtering comparison keeps the vector's sample as it is (name included).
    return { kind: 'vector', samples: vector.samples.filter((s) => comparison!(...pair(s.value))) };
  }

  // Vector to vector, one-to-one on `on (...)` or on every label but the name.
  const key = (s: Sample) => signature(on ? pick(s.labels, on) : withoutName(s.labels));
  const rightByKey = new Map<string, Sample>();
  for (const s of right.samples) {
    const k = key(s);
    if (rightByKey.has(k)) throw new Error(`many-to-many matching on the right side of "${text(c, node)}"`);
    rightByKey.set(k, s);
  }
  const seen = new Set<string>();
  const out: Sample[] = [];
  for (const l of left.samples) {
    const k = key(l);
    const r = rightByKey.get(k);
    if (!r) continue;
    if (seen.has(k)) throw new Error(`many-to-one matching without group_left in "${text(c, node)}"`);
    seen.add(k);
    // One-to-one with on (...): the result keeps only those labels (Prometheus's resultMetric).
    const labels = on ? pick(l.labels, on) : arithmetic ? withoutName(l.labels) : l.labels;
    if (arithmetic) out.push({ labels, value: arithmetic(l.value, r.value) });
    else if (comparison!(l.value, r.value)) out.push({ labels, value: l.value });
  }
  return { kind: 'vector', samples: out };
}

function pick(labels: Labels, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = labels[name];
    if (value !== undefined && value !== '') out[name] = value;
  }
  return out;
}

function withoutName(labels: Labels): Record<string, string> {
  const { __name__: _, ...rest } = labels;
  return rest;
}

function signature(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).filter(([, v]) => v !== '').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * The samples of a Prometheus text exposition (what /metrics serves), with the target labels a scrape
 * adds (job, instance). Histogram buckets, sums and counts are samples of their own names, as in Prometheus.
 */
export function parseExposition(body: string, target: Labels = {}): Sample[] {
  const samples: Sample[] = [];
  for (const line of body.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\S+)?$/.exec(line);
    if (!match) throw new Error(`unreadable exposition line: ${line}`);
    const labels: Record<string, string> = { ...target, __name__: match[1]! };
    const pairs = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
    for (const pair of (match[3] ?? '').matchAll(pairs)) labels[pair[1]!] = pair[2]!.replace(/\\(.)/g, (_, ch: string) => (ch === 'n' ? '\n' : ch));
    const raw = match[4]!;
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    samples.push({ labels, value });
  }
  return samples;
}
