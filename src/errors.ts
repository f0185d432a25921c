// The one error class engines and adapters throw. `reason` is a reason of a catalog (src/reasons/index.ts)
// that controllers copy into a condition; `terminal` errors are not retried.
import type { Reason } from './reasons/index.ts';

export interface OperatorErrorOptions {
  cause?: unknown;
  terminal?: boolean;
  details?: Record<string, unknown>;
}

export class OperatorError extends Error {
  readonly reason: Reason;
  readonly terminal: boolean;
  readonly details: Record<string, unknown>;

  constructor(reason: Reason, message: string, options: OperatorErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OperatorError';
    this.reason = reason;
    this.terminal = options.terminal ?? false;
    this.details = options.details ?? {};
  }
}

export function isOperatorError(error: unknown): error is OperatorError {
  return error instanceof OperatorError;
}

/** A one-line human message for any thrown value, never a stack trace. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
