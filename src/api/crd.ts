// Generates CustomResourceDefinitions from the zod schemas the operator validates with, so the API
// server and the code can never disagree about a field. `npm run crds` writes crds/; a test fails when
// crds/ is stale.
import * as z from 'zod';
import { GROUP, VERSION } from './common.ts';

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

export interface ResourceKind {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  description: string;
  spec: z.ZodType;
  status: z.ZodType;
  printerColumns: PrinterColumn[];
}

type JsonSchema = Record<string, unknown>;

/** zod's JSON Schema -> a structural OpenAPI v3 schema the API server accepts. */
export function toStructuralSchema(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'throw' }) as JsonSchema;
  return clean(json);
}

function clean(node: unknown): JsonSchema {
  if (Array.isArray(node)) return node.map(clean) as unknown as JsonSchema;
  if (node === null || typeof node !== 'object') return node as JsonSchema;
  const scalarUnion = scalarUnionOf(node as JsonSchema);
  if (scalarUnion) return scalarUnion;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$schema' || key === 'id') continue;
    if ((key === 'maximum' && value === Number.MAX_SAFE_INTEGER) || (key === 'minimum' && value === Number.MIN_SAFE_INTEGER)) continue;
    if (key === 'additionalProperties' && value === false) continue;
    if (key === 'properties' || key === 'default' || key === 'x-kubernetes-validations' || key === 'enum' || key === 'required') {
      out[key] = key === 'properties' ? mapValues(value as Record<string, unknown>, clean) : value;
    } else {
      out[key] = typeof value === 'object' ? clean(value) : value;
    }
  }
  return out;
}

const SCALAR_TYPES = new Set(['string', 'number', 'integer', 'boolean']);

/**
 * A union of scalar types (string | number | boolean) has no structural form; the API server accepts
 * it as an untyped value, and the operator's zod schema checks it when it reads the resource.
 */
function scalarUnionOf(node: JsonSchema): JsonSchema | undefined {
  const members = node['anyOf'] ?? node['oneOf'];
  if (!Array.isArray(members) || node['type'] !== undefined) return undefined;
  if (!members.every((m) => SCALAR_TYPES.has((m as JsonSchema)['type'] as string))) return undefined;
  const out: JsonSchema = { 'x-kubernetes-preserve-unknown-fields': true };
  if (node['description'] !== undefined) out['description'] = node['description'];
  return out;
}

function mapValues(record: Record<string, unknown>, fn: (v: unknown) => JsonSchema): JsonSchema {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, fn(v)]));
}

export function crdFor(resource: ResourceKind): JsonSchema {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${resource.plural}.${GROUP}` },
    spec: {
      group: GROUP,
      names: {
        kind: resource.kind,
        listKind: `${resource.kind}List`,
        plural: resource.plural,
        singular: resource.singular,
        shortNames: resource.shortNames,
        categories: ['lokdarpan'],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: resource.printerColumns,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: resource.description,
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' },
                kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' },
                metadata: { type: 'object' },
                spec: toStructuralSchema(resource.spec),
                status: toStructuralSchema(resource.status),
              },
            },
          },
        },
      ],
    },
  };
}

export const readyColumn: PrinterColumn = { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' };
export const ageColumn: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };
export const reasonColumn: PrinterColumn = { name: 'Reason', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].reason', priority: 1 };
