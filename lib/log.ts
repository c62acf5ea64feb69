import { format } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';

/** Values under keys that look like secrets never reach a log line. */
const SECRET_KEY_PATTERN = /secret|token|password|authorization|signature|credential/i;
export const REDACTED = '[REDACTED]';

export const DEFAULT_SERVICE_NAME = 'rocketmq-serverless';

function redactSecrets(key: string, value: unknown): unknown {
  if (key !== '' && SECRET_KEY_PATTERN.test(key) && value !== undefined && value !== null) return REDACTED;
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/**
 * The library's Powertools logger: JSON lines, level from `POWERTOOLS_LOG_LEVEL` (default INFO), service
 * from `POWERTOOLS_SERVICE_NAME`, secrets redacted by key name.
 */
export function createLogger(serviceName?: string): Logger {
  return new Logger({
    serviceName: serviceName ?? process.env.POWERTOOLS_SERVICE_NAME ?? DEFAULT_SERVICE_NAME,
    jsonReplacerFn: redactSecrets,
  });
}

let sharedLogger: Logger | undefined;

/** One logger per process, created on first use so `POWERTOOLS_*` variables set at startup apply. */
export function getLogger(): Logger {
  sharedLogger ??= createLogger();
  return sharedLogger;
}

/** The logger shape `rocketmq-client-nodejs` accepts (printf-style arguments). */
export interface ClientLogger {
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
  debug(...args: unknown[]): void;
}

/**
 * Routes the official client's log calls into Powertools at a level one step quieter than the client
 * picks: the client logs every failed attempt as an error, while the outcome that matters is logged by
 * the producer once, with its code. Without this adapter the client writes files under the home
 * directory, which is read-only on FC and Lambda.
 */
export function clientLoggerAdapter(logger: Logger): ClientLogger {
  const line = (args: unknown[]) => ({ message: format(...args), source: 'rocketmq-client-nodejs' });
  return {
    debug: (...args) => logger.debug(line(args)),
    info: (...args) => logger.debug(line(args)),
    warn: (...args) => logger.debug(line(args)),
    error: (...args) => logger.warn(line(args)),
  };
}
