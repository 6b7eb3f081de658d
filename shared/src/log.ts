import { type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** At most this much log waits for a slow stdout; past it lines are dropped, never the process blocked. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

function options(service: string, level: LogLevel): LoggerOptions {
  return {
    level,
    base: { service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // Secrets never reach a line, whichever field a caller puts them in.
    redact: { paths: ['*.authorization', '*.x-api-key', '*.token', '*.secret', '*.password'], censor: '[redacted]' },
  };
}

/**
 * The one logger of a process: pino, one JSON object per line on stdout. Writes are asynchronous and
 * bounded (a stalled log pipe costs dropped lines, not a blocked event loop); `flush` before exit.
 */
export function createLogger(service: string, level: LogLevel): Logger {
  const destination = pino.destination({ dest: 1, sync: false, maxLength: MAX_BUFFERED_BYTES });
  return pino(options(service, level), destination);
}

/** A logger that writes synchronously (worker threads, tests): each line is out when the call returns. */
export function createSyncLogger(service: string, level: LogLevel, fd = 1): Logger {
  return pino(options(service, level), pino.destination({ dest: fd, sync: true }));
}

/**
 * The start-up refusal: one JSON line on stderr with the reason as `msg`, then exit 1. Used before the
 * logger exists (the log level itself may be what is wrong).
 */
export function exitWith(service: string, message: string): never {
  createSyncLogger(service, 'fatal', 2).fatal(message);
  process.exit(1);
}
