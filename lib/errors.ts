/**
 * Every error this library raises is a {@link RocketMQError} with a stable string `code` that callers can
 * switch on, a `retryable` flag that our own retry policy also obeys, and the original error as `cause`.
 */

export const ErrorCode = {
  /** An option or environment variable is missing, unknown or malformed. */
  CONFIG_INVALID: 'CONFIG_INVALID',
  /** The message failed validation before any network I/O. */
  MESSAGE_INVALID: 'MESSAGE_INVALID',
  /** The body is over the size limit (checked locally, or 41301 from the broker). */
  MESSAGE_TOO_LARGE: 'MESSAGE_TOO_LARGE',
  /** The topic does not exist on the broker (40402). */
  TOPIC_NOT_FOUND: 'TOPIC_NOT_FOUND',
  /** The message type (normal, FIFO, delay, transaction) does not match the topic type (40014). */
  MESSAGE_TYPE_MISMATCH: 'MESSAGE_TYPE_MISMATCH',
  /** Missing or wrong credentials (40100). */
  UNAUTHORIZED: 'UNAUTHORIZED',
  /** Credentials are valid but lack permission (40300). */
  FORBIDDEN: 'FORBIDDEN',
  /** Any other 4xx status from the broker. */
  BAD_REQUEST: 'BAD_REQUEST',
  /** The broker throttled the producer (42900); a local in-flight bound is {@link ErrorCode.IN_FLIGHT_FULL}. */
  TOO_MANY_REQUESTS: 'TOO_MANY_REQUESTS',
  /** The broker failed internally (500xx). */
  BROKER_INTERNAL: 'BROKER_INTERNAL',
  /** The broker timed out storing the message (504xx, e.g. slave persistence). */
  BROKER_TIMEOUT: 'BROKER_TIMEOUT',
  /** The broker could not be reached (gRPC UNAVAILABLE and other transport failures). */
  UNAVAILABLE: 'UNAVAILABLE',
  /** The send did not finish within its deadline; the message may or may not have been stored. */
  TIMEOUT: 'TIMEOUT',
  /**
   * Local, not the broker's {@link ErrorCode.TOO_MANY_REQUESTS}: this process's in-flight bound
   * (`maxInFlight`, `maxInFlightBytes`) had no room before the send's deadline; nothing was sent.
   */
  IN_FLIGHT_FULL: 'IN_FLIGHT_FULL',
  /** The producer was shut down. */
  PRODUCER_CLOSED: 'PRODUCER_CLOSED',
  /** The spool could not be read or written (disk full, permissions, a path that is not a directory). */
  SPOOL_FAILED: 'SPOOL_FAILED',
  /** A trigger event (HTTP request, OSS/S3 notification, timer tick) is malformed. HTTP 400. */
  EVENT_INVALID: 'EVENT_INVALID',
  /** An HTTP request body is over the accepted size. HTTP 413. */
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  /** An HTTP method the function does not serve. HTTP 405. */
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  /** Anything not classified above. */
  UNKNOWN: 'UNKNOWN',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const RETRYABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCode.TOO_MANY_REQUESTS,
  ErrorCode.BROKER_INTERNAL,
  ErrorCode.BROKER_TIMEOUT,
  ErrorCode.UNAVAILABLE,
  ErrorCode.TIMEOUT,
]);

/** Whether a send that failed with this code may succeed when tried again. */
export function isRetryableCode(code: ErrorCode): boolean {
  return RETRYABLE.has(code);
}

export interface RocketMQErrorDetails {
  cause?: unknown;
  topic?: string;
  messageId?: string;
  /** The broker's status code (e.g. 40402) or the gRPC status code, when the error came from the wire. */
  status?: number;
  /** For validation errors: the offending field (`topic`, `tag`, `keys[2]`, `body`, …). */
  field?: string;
  /** Whether the broker may have stored the message despite the failure; see {@link RocketMQError.mayBeStored}. */
  mayBeStored?: boolean;
}

export class RocketMQError extends Error {
  override readonly name: string = 'RocketMQError';
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly topic: string | undefined;
  readonly messageId: string | undefined;
  readonly status: number | undefined;
  readonly field: string | undefined;
  /**
   * A send failed after its request may have reached the broker (a timeout, or the connection lost
   * after the request was written): the message may be stored, and a resend may duplicate it, which is
   * why consumers deduplicate by key. `false` means the broker did not store it: it refused the message,
   * or the request never left this process.
   */
  readonly mayBeStored: boolean;
  /** How many attempts the send made before giving up; set by the retry loop. */
  attempts: number | undefined;
  /** On a failed async send: whether the message went to the spool for later delivery. */
  spooled: boolean | undefined;

  constructor(code: ErrorCode, message: string, details: RocketMQErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.retryable = isRetryableCode(code);
    this.topic = details.topic;
    this.messageId = details.messageId;
    this.status = details.status;
    this.field = details.field;
    this.mayBeStored = details.mayBeStored ?? false;
  }

  /** A plain object for structured logs; the cause is reduced to its message. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      topic: this.topic,
      messageId: this.messageId,
      status: this.status,
      field: this.field,
      mayBeStored: this.mayBeStored,
      attempts: this.attempts,
      spooled: this.spooled,
      cause: this.cause instanceof Error ? this.cause.message : this.cause,
    };
  }
}

/** Raised by {@link validateMessage} and by every send method before any network I/O. */
export class MessageValidationError extends RocketMQError {
  override readonly name: string = 'MessageValidationError';
}

/** Raised when options or environment variables are missing or malformed. */
export class ConfigError extends RocketMQError {
  override readonly name: string = 'ConfigError';
  constructor(message: string, details: RocketMQErrorDetails = {}) {
    super(ErrorCode.CONFIG_INVALID, message, details);
  }
}

/** Raised by trigger mappers for events that do not have the expected shape. */
export class EventError extends RocketMQError {
  override readonly name: string = 'EventError';
}

export function isRocketMQError(value: unknown): value is RocketMQError {
  return value instanceof RocketMQError;
}

/** Errors made by {@link withoutStack}: their stack is their first line only, and reading it is skipped. */
const FRAMELESS = new WeakSet<Error>();

/**
 * Makes an error without capturing a stack, for errors a drain makes by the thousand whose stack would
 * only show its own timer: capturing (and later formatting) one costs more than the rest of the error.
 */
export function withoutStack<T extends Error>(make: () => T): T {
  const error = uncaptured(make);
  FRAMELESS.add(error);
  return error;
}

/** Makes an error without capturing a stack, for a caller that gives it one itself. */
export function uncaptured<T extends Error>(make: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** Whether `error` was made by {@link withoutStack}. */
export function isFrameless(error: Error): boolean {
  return FRAMELESS.has(error);
}
