import { AsyncLocalStorage } from 'node:async_hooks';
import { pino, type DestinationStream, type Level } from 'pino';
import { scrubFields, scrubSecrets } from './scrub.js';

// Structured JSON logs, one object a line (pino). Every line written while a request is being
// served carries its request_id, taken from an AsyncLocalStorage the request middleware fills, so
// domain code logs without passing ids around.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export const LOG_LEVELS: LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** Runs fn with requestId attached to every line it (and what it awaits) logs. */
  inRequest<T>(requestId: string, fn: () => T): T;
  /** The id of the request being served, if any. */
  requestId(): string | undefined;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; stdout by default. */
  destination?: DestinationStream;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const scope = new AsyncLocalStorage<{ requestId: string }>();
  const base = pino(
    {
      level: opts.level ?? 'info',
      base: { pid: process.pid },
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: () => {
        const id = scope.getStore()?.requestId;
        return id ? { request_id: id } : {};
      },
    },
    // Synchronous: the last lines before an exit (a fatal start-up error, the shutdown) must not be lost.
    opts.destination ?? pino.destination({ dest: 1, sync: true }),
  );
  const write = (level: Level) => (msg: string, fields?: Record<string, unknown>) => {
    if (!base.isLevelEnabled(level)) return;
    base[level](fields ? scrubFields(fields) : {}, scrubSecrets(msg));
  };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    inRequest: (requestId, fn) => scope.run({ requestId }, fn),
    requestId: () => scope.getStore()?.requestId,
  };
}

/** A logger that writes nothing (tests, one-shot commands); request ids still work. */
export const silentLogger: Logger = createLogger({ level: 'silent', destination: { write: () => {} } });
