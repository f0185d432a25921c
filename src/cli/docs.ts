// `lokdarpan docs generate|check|print`: writes docs/reference/crds.md, the CRD reference, from the same
// generated CustomResourceDefinitions the API server gets (src/api -> crdFor): every spec and status
// field with its type, default, description and validation; and the reason tables of docs/conditions.md
// and docs/retention.md from the reason catalogs (src/cli/reason-docs.ts). `check` fails when a file is
// stale (test/unit/docs/crd-reference.test.ts and reason-tables.test.ts run it).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { crdFor, type ResourceKind } from '../api/crd.ts';
import { API_VERSION } from '../api/common.ts';
import { allResourceKinds } from '../api/resources.ts';
import type { CliIo } from './io.ts';
import { EXIT } from './io.ts';
import { REASON_DOCS, spliceReasonTables } from './reason-docs.ts';

export const CRD_REFERENCE_PATH = 'docs/reference/crds.md';

type Schema = {
  type?: string;
  description?: string;
  default?: unknown;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  required?: string[];
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean | number;
  minItems?: number;
  maxItems?: number;
  anyOf?: Schema[];
  oneOf?: Schema[];
  'x-kubernetes-validations'?: Array<{ rule: string; message?: string; fieldPath?: string }>;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
};

export interface FieldRow {
  path: string;
  type: string;
  default?: string;
  description: string;
  validation: string[];
}

const code = (text: string): string => `\`${text.replace(/`/g, "'")}\``;
/** Makes text safe inside a Markdown table cell. */
const cell = (text: string): string => text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\n+/g, ' ');

function typeOf(schema: Schema): string {
  if (schema['x-kubernetes-preserve-unknown-fields'] === true && schema.type === undefined) return 'string, number or boolean';
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return union.map(typeOf).join(' or ');
  if (schema.type === 'array') return `[]${schema.items ? typeOf(schema.items) : 'any'}`;
  if (schema.type === 'object' && schema.properties === undefined && typeof schema.additionalProperties === 'object') {
    return `map[string]${typeOf(schema.additionalProperties)}`;
  }
  return schema.type ?? 'any';
}

function validationOf(schema: Schema, required: boolean): string[] {
  const v: string[] = [];
  if (required) v.push('required');
  if (schema.enum) v.push(`one of ${schema.enum.map((e) => code(String(e))).join(', ')}`);
  if (schema.pattern !== undefined) v.push(`pattern ${code(schema.pattern)}`);
  if (schema.minLength !== undefined || schema.maxLength !== undefined) {
    v.push(schema.minLength === undefined ? `max length ${schema.maxLength}` : schema.maxLength === undefined ? `min length ${schema.minLength}` : `length ${schema.minLength}..${schema.maxLength}`);
  }
  const exclusiveMin = schema.exclusiveMinimum === true || typeof schema.exclusiveMinimum === 'number';
  const min = typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum : schema.minimum;
  if (min !== undefined) v.push(`${exclusiveMin ? '>' : '>='} ${min}`);
  if (schema.maximum !== undefined) v.push(`<= ${schema.maximum}`);
  if (schema.minItems !== undefined) v.push(`at least ${schema.minItems} item${schema.minItems === 1 ? '' : 's'}`);
  if (schema.maxItems !== undefined) v.push(`at most ${schema.maxItems} items`);
  if (schema['x-kubernetes-list-type'] === 'map') v.push(`list map keyed by ${(schema['x-kubernetes-list-map-keys'] ?? []).map(code).join(', ')}`);
  for (const rule of schema['x-kubernetes-validations'] ?? []) {
    v.push(`CEL ${code(rule.rule)}${rule.message ? `: ${rule.message}` : ''}`);
  }
  return v;
}

/** Every field under `schema`, depth first, with dotted paths (`[]` for array items). */
export function fieldRows(schema: Schema, prefix: string): FieldRow[] {
  const rows: FieldRow[] = [];
  const required = new Set(schema.required ?? []);
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    const path = prefix === '' ? name : `${prefix}.${name}`;
    const row: FieldRow = {
      path,
      type: typeOf(child),
      description: child.description ?? (child.type === 'array' ? (child.items?.description ?? '') : ''),
      validation: validationOf(child, required.has(name)),
    };
    if (child.default !== undefined) row.default = JSON.stringify(child.default);
    rows.push(row);
    rows.push(...fieldRows(child, path));
    if (child.items) {
      const itemValidation = validationOf(child.items, false);
      if (itemValidation.length > 0 && child.items.properties === undefined) {
        rows.push({ path: `${path}[]`, type: typeOf(child.items), description: child.items.description ?? 'Each item.', validation: itemValidation });
      }
      rows.push(...fieldRows(child.items, `${path}[]`));
    }
  }
  return rows;
}

function table(rows: readonly FieldRow[]): string {
  if (rows.length === 0) return '_No fields._\n';
  const lines = ['| field | type | default | description | validation |', '|---|---|---|---|---|'];
  for (const r of rows) {
    lines.push(
      `| ${cell(code(r.path))} | ${cell(r.type)} | ${r.default === undefined ? '' : cell(code(r.default))} | ${cell(r.description)} | ${cell(r.validation.join('; '))} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function kindSection(kind: ResourceKind): string {
  const crd = crdFor(kind) as { spec: { versions: Array<{ schema: { openAPIV3Schema: Schema } }> } };
  const root = crd.spec.versions[0]?.schema.openAPIV3Schema;
  const spec = root?.properties?.['spec'] ?? {};
  const status = root?.properties?.['status'] ?? {};
  const out: string[] = [];
  out.push(`## ${kind.kind}\n`);
  out.push(`${kind.description}\n`);
  out.push(`- API version: \`${API_VERSION}\`, kind \`${kind.kind}\`, namespaced`);
  out.push(`- Names: \`${kind.plural}\`, \`${kind.singular}\`, short ${kind.shortNames.map(code).join(', ')}; category \`lokdarpan\``);
  out.push(`- \`kubectl get ${kind.shortNames[0] ?? kind.plural}\` columns: ${kind.printerColumns.map((c) => `${c.name}${c.priority ? ' (wide)' : ''}`).join(', ')}`);
  out.push(`- Conditions and reasons: [conditions.md](../conditions.md#${kind.kind.toLowerCase()})\n`);
  if (spec.description) out.push(`### spec\n\n${spec.description}\n`);
  else out.push('### spec\n');
  const specRules = validationOf({ ...spec, required: [] } as Schema, false).filter((v) => v.startsWith('CEL'));
  if (specRules.length > 0) out.push(`Object rules: ${specRules.map(cell).join('; ')}\n`);
  out.push(table(fieldRows(spec, 'spec')));
  out.push(`### status\n\n${status.description ?? 'Written by the operator.'}\n`);
  out.push(table(fieldRows(status, 'status')));
  return out.join('\n');
}

/** The whole reference page. */
export function renderCrdReference(): string {
  const parts = [
    '<!-- Generated from src/api by `node src/cli/main.ts docs generate`. Do not edit by hand. -->',
    '# CRD reference\n',
    `Every field of the ${allResourceKinds.length} custom resources of \`${API_VERSION}\`, generated from the zod schemas in`,
    '`src/api/` through the same CRDs the API server gets (`crds/`), so it cannot disagree with them.',
    '`kubectl explain <kind>.spec.<field>` shows the same descriptions in a cluster. Defaults are filled',
    'in by the API server; "CEL" rules are checked by the API server on create and update and the',
    'message is what `kubectl apply` prints when one fails. Durations are a whole number and one unit',
    '(`ms`, `s`, `m`, `h`, `d`, `w`, `y`); schedules are 5-field cron expressions read in `timeZone`.\n',
    ...allResourceKinds.map((k) => `- [${k.kind}](#${k.kind.toLowerCase()}) (\`${k.shortNames[0] ?? k.plural}\`)`),
    '',
    ...allResourceKinds.map(kindSection),
  ];
  return `${parts.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

export async function crdReferenceIsStale(repoRoot: string): Promise<boolean> {
  const current = await readFile(join(repoRoot, CRD_REFERENCE_PATH), 'utf8').catch(() => '');
  return current !== renderCrdReference();
}

/** The pages the generator writes, with their generated content; reason pages must exist (only their tables are generated). */
async function generatedPages(repoRoot: string): Promise<Array<{ path: string; current: string; wanted: string }>> {
  const read = (path: string): Promise<string> => readFile(join(repoRoot, path), 'utf8').catch(() => '');
  const pages = [{ path: CRD_REFERENCE_PATH, current: await read(CRD_REFERENCE_PATH), wanted: renderCrdReference() }];
  for (const doc of REASON_DOCS) {
    const current = await read(doc.path);
    if (current === '') throw new Error(`${doc.path} is missing: its reason tables are generated into the hand-written page`);
    pages.push({ path: doc.path, current, wanted: spliceReasonTables(current, doc.groups, doc.path) });
  }
  return pages;
}

const USAGE = `usage: lokdarpan docs generate|check|print

  generate   write ${CRD_REFERENCE_PATH} from the API schemas and the reason tables of
             ${REASON_DOCS.map((d) => d.path).join(', ')} from the reason catalogs
  check      exit 1 when one of them is stale
  print      write the CRD reference to stdout
`;

export async function runDocsCli(argv: string[], io: CliIo): Promise<number> {
  const [verb] = argv;
  if (verb === '--help' || verb === '-h' || verb === 'help') {
    io.stdout.write(USAGE);
    return EXIT.ok;
  }
  if (verb === 'print') {
    io.stdout.write(renderCrdReference());
    return EXIT.ok;
  }
  if (verb === 'check' || verb === 'generate') {
    let pages;
    try {
      pages = await generatedPages(io.repoRoot);
    } catch (error) {
      io.stderr.write(`${(error as Error).message}\n`);
      return EXIT.failure;
    }
    const stale = pages.filter((p) => p.current !== p.wanted);
    if (verb === 'check') {
      for (const page of stale) io.stderr.write(`${page.path} is stale; run \`node src/cli/main.ts docs generate\`\n`);
      return stale.length === 0 ? EXIT.ok : EXIT.failure;
    }
    for (const page of stale) {
      const path = join(io.repoRoot, page.path);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, page.wanted);
      io.stdout.write(`wrote ${page.path}\n`);
    }
    return EXIT.ok;
  }
  io.stderr.write(USAGE);
  return EXIT.usage;
}
