// Reasons of the performance validation.
import { reasonNames, type ReasonCatalog } from '../../reasons/catalog.ts';

export const ValidationReasonCatalog = {
  ValidationQueryFailed: 'A validation probe errored (missing function, timeout). Check SchemaReady and the message; see [Performance validation](operations.md#performance-validation).',
} as const satisfies ReasonCatalog;

export const VALIDATION_REASONS = reasonNames(ValidationReasonCatalog);
