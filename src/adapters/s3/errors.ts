// Turns AWS SDK errors into OperatorErrors with a reason from S3Reasons and no secrets in the message.
import { OperatorError, describeError } from '../../errors.ts';
import { S3Reasons, type S3Reason } from './reasons.ts';

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE']);

interface SdkLikeError {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
  errors?: unknown[];
}

function networkCode(error: unknown, depth = 0): string | undefined {
  if (error === null || typeof error !== 'object' || depth > 4) return undefined;
  const e = error as SdkLikeError;
  if (e.code !== undefined && NETWORK_CODES.has(e.code)) return e.code;
  if (e.name === 'TimeoutError' || e.name === 'RequestTimeout') return 'ETIMEDOUT';
  for (const inner of [e.cause, ...(Array.isArray(e.errors) ? e.errors : [])]) {
    const code = networkCode(inner, depth + 1);
    if (code !== undefined) return code;
  }
  return undefined;
}

export function httpStatus(error: unknown): number | undefined {
  return (error as SdkLikeError | undefined)?.$metadata?.httpStatusCode;
}

export function isNotFound(error: unknown): boolean {
  const e = error as SdkLikeError | undefined;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || httpStatus(error) === 404;
}

/** Wraps any failure of `operation` on `where` (destination name/bucket/key) with a reason. */
export function s3Error(fallback: S3Reason, operation: string, where: string, error: unknown): OperatorError {
  if (error instanceof OperatorError) return error;
  const code = networkCode(error);
  const status = httpStatus(error);
  if (code !== undefined) {
    return new OperatorError(S3Reasons.DestinationUnreachable, `${operation} ${where}: endpoint unreachable (${code})`, { cause: error, details: { code } });
  }
  if (isNotFound(error) && fallback !== S3Reasons.UploadFailed) {
    return new OperatorError(S3Reasons.ObjectNotFound, `${operation} ${where}: no such object`, { cause: error, details: { status } });
  }
  const name = (error as SdkLikeError | undefined)?.name;
  const label = name !== undefined && name !== 'Error' ? `${name}: ` : '';
  return new OperatorError(fallback, `${operation} ${where}: ${label}${describeError(error)}${status !== undefined ? ` (HTTP ${status})` : ''}`, {
    cause: error,
    details: status !== undefined ? { status } : {},
  });
}
