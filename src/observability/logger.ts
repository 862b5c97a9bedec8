// The one place where logging is configured: JSON lines (pino), a level, and redaction of every field
// name that may carry secret material. SecretValue already prints as [redacted]; redaction by path is
// the second guard for plain strings that slip through.
import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

export const REDACTED_PATHS = [
  'access_token',
  'refresh_token',
  'id_token',
  'client_secret',
  'clientSecret',
  'password',
  'token',
  'apiKey',
  'authorization',
  'Authorization',
  'privateKey',
  'data',
  'stringData',
  '*.access_token',
  '*.refresh_token',
  '*.id_token',
  '*.client_secret',
  '*.clientSecret',
  '*.password',
  '*.token',
  '*.apiKey',
  '*.authorization',
  '*.Authorization',
  '*.privateKey',
  '*.data',
  '*.stringData',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'body',
  '*.body',
];

export interface LoggerConfig {
  level: string;
  /** Human-readable output for a terminal; JSON otherwise. */
  pretty: boolean;
  /** Where lines go; defaults to stdout. */
  destination?: pino.DestinationStream;
}

export function createLogger(config: LoggerConfig): Logger {
  const options: LoggerOptions = {
    level: config.level,
    base: { app: 'coffre' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  if (config.destination !== undefined) return pino(options, config.destination);
  if (config.pretty) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true } } });
  }
  return pino(options);
}

/** A logger that drops everything, for tests and library defaults. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
