import { format } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';

/** Values under keys that look like secrets never reach a log line. */
const SECRET_KEY_PATTERN = /secret|token|password|authorization|signature|credential/i;
export const REDACTED = '[REDACTED]';

export const DEFAULT_SERVICE_NAME = 'rocketmq-serverless';
/** The `source` of the library's own log lines; log shipping leaves them out. */
export const LIBRARY_SOURCE = 'rocketmq-serverless';
const CLIENT_SOURCE = 'rocketmq-client-nodejs';

function redactSecrets(key: string, value: unknown): unknown {
  if (key !== '' && SECRET_KEY_PATTERN.test(key) && value !== undefined && value !== null) return REDACTED;
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** Hands one log record to RocketMQ; registered by the producer module to keep this one free of it. */
export type LogRecordSender = (
  topic: string,
  record: { level: string; body: string; keys: string[] },
) => void;
let recordSender: LogRecordSender | undefined;

export function registerLogRecordSender(sender: LogRecordSender): void {
  recordSender = sender;
}

/**
 * A Powertools logger that also ships every record it prints, oneway, to a RocketMQ topic (log
 * shipping, the seed's own example of a oneway use). The library's and the client's own lines stay
 * local: shipping them would make every shipped line produce more lines to ship.
 */
export class ShippingLogger extends Logger {
  readonly #topic: string;
  #shipping = false;

  constructor(options: ConstructorParameters<typeof Logger>[0] & { topic: string }) {
    const { topic, ...loggerOptions } = options;
    super(loggerOptions);
    this.#topic = topic;
  }

  /** Children ship too (the FC wrapper gives each request one). */
  protected override createLogger(options: ConstructorParameters<typeof Logger>[0]): Logger {
    return new ShippingLogger({ ...options, topic: this.#topic });
  }

  protected override printLog(level: number, log: Parameters<Logger['printLog']>[1]): void {
    super.printLog(level, log);
    const attributes = log.getAttributes() as Record<string, unknown>;
    if (
      this.#shipping ||
      !recordSender ||
      attributes.source === LIBRARY_SOURCE ||
      attributes.source === CLIENT_SOURCE
    ) {
      return;
    }
    this.#shipping = true;
    try {
      const requestId = attributes.requestId ?? attributes.function_request_id;
      recordSender(this.#topic, {
        level: String(attributes.level ?? 'INFO'),
        body: JSON.stringify(attributes, redactSecrets),
        keys: typeof requestId === 'string' && /^\S+$/.test(requestId) ? [requestId] : [],
      });
    } catch {
      // Shipping is best effort by definition (oneway); it never breaks logging.
    } finally {
      this.#shipping = false;
    }
  }
}

/**
 * The library's Powertools logger: JSON lines, level from `POWERTOOLS_LOG_LEVEL` (default INFO), service
 * from `POWERTOOLS_SERVICE_NAME`, secrets redacted by key name. With `ROCKETMQ_LOG_TOPIC` set, it also
 * ships each line oneway to that topic.
 */
export function createLogger(serviceName?: string): Logger {
  const options = {
    serviceName: serviceName ?? process.env.POWERTOOLS_SERVICE_NAME ?? DEFAULT_SERVICE_NAME,
    jsonReplacerFn: redactSecrets,
  };
  const topic = process.env.ROCKETMQ_LOG_TOPIC;
  return topic ? new ShippingLogger({ ...options, topic }) : new Logger(options);
}

let sharedLogger: Logger | undefined;

/** One logger per process, created on first use so `POWERTOOLS_*` variables set at startup apply. */
export function getLogger(): Logger {
  sharedLogger ??= createLogger();
  return sharedLogger;
}

/** The producer's view of a logger: every line it writes is marked as the library's own. */
export interface LibraryLog {
  readonly level: number;
  debug(attributes: { message: string; [key: string]: unknown }): void;
  info(attributes: { message: string; [key: string]: unknown }): void;
  warn(attributes: { message: string; [key: string]: unknown }): void;
  error(attributes: { message: string; [key: string]: unknown }): void;
}

export function libraryLog(logger: Logger): LibraryLog {
  return {
    get level() {
      return logger.level;
    },
    debug: (attributes) => logger.debug({ source: LIBRARY_SOURCE, ...attributes }),
    info: (attributes) => logger.info({ source: LIBRARY_SOURCE, ...attributes }),
    warn: (attributes) => logger.warn({ source: LIBRARY_SOURCE, ...attributes }),
    error: (attributes) => logger.error({ source: LIBRARY_SOURCE, ...attributes }),
  };
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
export function clientLoggerAdapter(logger: LibraryLog): ClientLogger {
  const line = (args: unknown[]) => ({ message: format(...args), source: CLIENT_SOURCE });
  return {
    debug: (...args) => logger.debug(line(args)),
    info: (...args) => logger.debug(line(args)),
    warn: (...args) => logger.debug(line(args)),
    error: (...args) => logger.warn(line(args)),
  };
}
