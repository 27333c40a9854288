import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  readonly level?: LevelWithSilent;
  /** Pretty lines for a person at a terminal; JSON lines otherwise (what journald and log shippers want). */
  readonly pretty?: boolean;
  /** Where JSON lines go; stdout by default. */
  readonly destination?: NodeJS.WritableStream;
}

/**
 * Every field that could carry a credential is censored, whatever the path to it, so that an audit line or a
 * debug line can never leak one even if a caller logs a whole object.
 */
const REDACT_PATHS = [
  'password',
  'bindPassword',
  'token',
  'secret',
  '*.password',
  '*.bindPassword',
  '*.token',
  '*.secret',
  'req.headers.authorization',
];

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = (process.env['LOG_LEVEL'] as LevelWithSilent | undefined) ?? options.level ?? 'info';
  const base = {
    level,
    base: { app: 'ldapsync' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[secret]' },
    formatters: { level: (label: string) => ({ level: label }) },
  };
  if (options.pretty === true) {
    return pino(base, pino.transport({ target: 'pino-pretty', options: { destination: 2, translateTime: 'SYS:HH:MM:ss' } }));
  }
  return pino(base, options.destination ?? pino.destination({ dest: 1, sync: true }));
}

/** A logger that drops everything, for library code called without one and for unit tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
