// Builds the OperatorError of a migration reason, with `terminal` taken from the catalog.
import { OperatorError } from '../../errors.ts';
import { TERMINAL_MIGRATION_REASONS, type MigrationReason } from './reasons.ts';

export function migrationError(
  reason: MigrationReason,
  message: string,
  details: Record<string, unknown> = {},
  cause?: unknown,
): OperatorError {
  return new OperatorError(reason, message, {
    terminal: TERMINAL_MIGRATION_REASONS.has(reason),
    details,
    ...(cause === undefined ? {} : { cause }),
  });
}
