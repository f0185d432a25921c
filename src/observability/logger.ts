// Structured logging (pino). Every logger in the project comes from here so secret redaction is uniform.
import { pino, type Logger } from 'pino';

export type { Logger };

/** Paths pino replaces with "[redacted]" wherever they appear in a log object. */
export const REDACTED_PATHS = [
  'password', '*.password', '*.*.password',
  'secretAccessKey', '*.secretAccessKey', '*.*.secretAccessKey',
  'accessKeyId', '*.accessKeyId',
  'connectionString', '*.connectionString', '*.*.connectionString',
  'databaseUrl', '*.databaseUrl',
  'uri', '*.uri',
  'sessionToken', '*.sessionToken', '*.*.sessionToken', 'credentials', '*.credentials',
  'identity', '*.identity', 'identities', '*.identities',
  'token', '*.token', 'authorization', '*.authorization', '*.headers.authorization',
  'webhookUrl', '*.webhookUrl', 'url', '*.url', 'dsn', '*.dsn',
];

export interface LoggerOptions {
  level?: string;
  /** Where to write; defaults to stdout. Tests pass a stream to capture output. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { name: 'lokdarpan-operator' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? process.stdout,
  );
}

/** A logger that writes nothing, for engines used without one. */
export const silentLogger: Logger = pino({ level: 'silent' });
