// One AbortSignal for a backup or restore run: the caller's (leader lost, SIGTERM) and the run's own
// timeout, with a Cancelled error that says which one fired.
import { OperatorError } from '../../errors.ts';
import { BackupReasons } from './reasons.ts';

export interface RunSignal {
  signal: AbortSignal | undefined;
  dispose(): void;
}

const TIMEOUT = Symbol('timeout');

/** Combines `signal` with a timer of `timeoutMs` (unset: none). */
export function runSignal(signal: AbortSignal | undefined, timeoutMs: number | undefined, what: string): RunSignal {
  if (timeoutMs === undefined) return { signal, dispose: () => undefined };
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new OperatorError(BackupReasons.InvalidRequest, `${what} timeout ${timeoutMs} ms is not a positive duration`, { terminal: true });
  }
  const timer = new AbortController();
  const handle = setTimeout(() => timer.abort(Object.assign(new OperatorError(BackupReasons.Cancelled, `${what} exceeded its timeout of ${formatMs(timeoutMs)}`, { details: { timedOut: true } }), { [TIMEOUT]: true })), Math.min(timeoutMs, 2 ** 31 - 1));
  handle.unref();
  return { signal: signal === undefined ? timer.signal : AbortSignal.any([signal, timer.signal]), dispose: () => clearTimeout(handle) };
}

/** The error a run stops with when `signal` fired: Cancelled, saying whether the run's own timeout fired. */
export function abortReason(signal: AbortSignal | undefined, what: string): OperatorError {
  const reason: unknown = signal?.reason;
  if (reason instanceof OperatorError && (reason as unknown as Record<symbol, unknown>)[TIMEOUT] === true) return reason;
  return new OperatorError(BackupReasons.Cancelled, `${what} cancelled`);
}

function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
