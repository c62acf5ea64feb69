import { ErrorCode, RocketMQError } from '../errors.js';

/**
 * Turns whatever the official client threw into a {@link RocketMQError}.
 *
 * The client raises three kinds of errors: `ClientException` subclasses carrying the broker's status
 * code (40402, 42900, …), grpc-js `ServiceError`s carrying a gRPC status (14 UNAVAILABLE, 4
 * DEADLINE_EXCEEDED, …), and plain `TypeError`s for checks it makes locally (body size, message type
 * against the route). Classification is by code first and by message only for the local checks, which
 * have no code.
 */

const GRPC_CANCELLED = 1;
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_RESOURCE_EXHAUSTED = 8;
const GRPC_UNIMPLEMENTED = 12;
const GRPC_INTERNAL = 13;
const GRPC_UNAVAILABLE = 14;
const GRPC_UNAUTHENTICATED = 16;
const GRPC_PERMISSION_DENIED = 7;

/**
 * The gRPC codes that suggest the channel itself is broken rather than the request. CANCELLED counts:
 * the producer never cancels a call, so a cancelled call was cut by the transport under it.
 */
export const STALE_CHANNEL_GRPC_CODES: ReadonlySet<number> = new Set([
  GRPC_CANCELLED,
  GRPC_UNAVAILABLE,
  GRPC_DEADLINE_EXCEEDED,
]);

function brokerStatusToCode(status: number): ErrorCode {
  if (status === 40402 || status === 40400) return ErrorCode.TOPIC_NOT_FOUND;
  if (status === 40014) return ErrorCode.MESSAGE_TYPE_MISMATCH;
  if (status === 40100) return ErrorCode.UNAUTHORIZED;
  if (status === 40300 || status === 40200) return ErrorCode.FORBIDDEN;
  if (status === 41300 || status === 41301) return ErrorCode.MESSAGE_TOO_LARGE;
  if (status === 42900) return ErrorCode.TOO_MANY_REQUESTS;
  if (status === 40800) return ErrorCode.TIMEOUT;
  if (status >= 40000 && status < 50000) return ErrorCode.BAD_REQUEST;
  if (status >= 50400 && status < 50500) return ErrorCode.BROKER_TIMEOUT;
  if (status >= 50000 && status < 50100) return ErrorCode.BROKER_INTERNAL;
  return ErrorCode.UNKNOWN;
}

/** gRPC verdicts on the request itself: a resend of the same request gets the same answer. */
const GRPC_REQUEST_ERRORS: ReadonlySet<number> = new Set([
  3, // INVALID_ARGUMENT
  5, // NOT_FOUND
  6, // ALREADY_EXISTS
  9, // FAILED_PRECONDITION
  11, // OUT_OF_RANGE
]);

function grpcStatusToCode(status: number, details: string): ErrorCode {
  if (GRPC_REQUEST_ERRORS.has(status)) return ErrorCode.BAD_REQUEST;
  // grpc-js reports a message over the channel's size limit as RESOURCE_EXHAUSTED.
  if (status === GRPC_RESOURCE_EXHAUSTED && /larger than max/i.test(details))
    return ErrorCode.MESSAGE_TOO_LARGE;
  switch (status) {
    case GRPC_UNAVAILABLE:
      return ErrorCode.UNAVAILABLE;
    case GRPC_DEADLINE_EXCEEDED:
      return ErrorCode.TIMEOUT;
    case GRPC_RESOURCE_EXHAUSTED:
      return ErrorCode.TOO_MANY_REQUESTS;
    case GRPC_INTERNAL:
      return ErrorCode.BROKER_INTERNAL;
    case GRPC_UNAUTHENTICATED:
      return ErrorCode.UNAUTHORIZED;
    case GRPC_PERMISSION_DENIED:
      return ErrorCode.FORBIDDEN;
    case GRPC_UNIMPLEMENTED:
      return ErrorCode.BAD_REQUEST;
    default:
      // CANCELLED, UNKNOWN and the rest come from a broken call, not from a verdict on the message.
      return ErrorCode.UNAVAILABLE;
  }
}

const LOCAL_CHECKS: ReadonlyArray<[RegExp, ErrorCode]> = [
  [/body size exceeds/i, ErrorCode.MESSAGE_TOO_LARGE],
  [/message type not match/i, ErrorCode.MESSAGE_TYPE_MISMATCH],
  [/not running/i, ErrorCode.PRODUCER_CLOSED],
];

/**
 * A verdict on the message that arrives dressed as something else: an empty body is answered 41302 by a
 * proxy since 5.3.2 and, before that, by a cluster-mode proxy with 50001 and the broker's remark "the
 * message is illegal…" (the proxy maps the broker's code to an internal error). A resend gets the same
 * answer, so neither is retried.
 */
function isMessageVerdict(status: number, text: string): boolean {
  return status === 41302 || (status === 50001 && /the message is illegal/i.test(text));
}

/** Strips the client's `[request-id=undefined, response-code=40402] ` prefix, which carries nothing. */
function brokerMessage(message: string): string {
  return message.replace(/^\[request-id=[^,]*, response-code=\d+\]\s*/, '');
}

/** gRPC failures of the call, not verdicts on the message: the request may have reached the broker. */
const GRPC_AMBIGUOUS: ReadonlySet<number> = new Set([
  GRPC_CANCELLED,
  2, // UNKNOWN
  GRPC_DEADLINE_EXCEEDED,
  10, // ABORTED
  GRPC_INTERNAL,
  GRPC_UNAVAILABLE,
]);

/** Broker answers that it may have stored the message but could not confirm it in time. */
function brokerStatusMayBeStored(code: ErrorCode): boolean {
  return code === ErrorCode.BROKER_TIMEOUT || code === ErrorCode.TIMEOUT;
}

/**
 * Whether the request may have reached the broker. A transport that knows sets `requestWritten` on what
 * it throws: `false` when the call failed before any byte of it was written (connection refused, no
 * session), `true` after. Without that fact a broken call counts as ambiguous: grpc-js retries a call
 * whose connection dropped on a new connection and then reports that connection's failure ("No
 * connection established"), although the first one may have delivered the request.
 */
function requestMayHaveArrived(error: Error): boolean {
  return (error as { requestWritten?: unknown }).requestWritten !== false;
}

export interface ClassifyContext {
  topic: string;
  messageId?: string;
}

export function classifyError(error: unknown, context: ClassifyContext): RocketMQError {
  if (error instanceof RocketMQError) return error;
  const details = { cause: error, topic: context.topic, messageId: context.messageId };
  if (!(error instanceof Error)) {
    return new RocketMQError(ErrorCode.UNKNOWN, `send to ${context.topic} failed: ${String(error)}`, details);
  }
  const numeric = (error as { code?: unknown }).code;
  if (typeof numeric === 'number' && numeric >= 10000) {
    const text = brokerMessage(error.message);
    const code = isMessageVerdict(numeric, text) ? ErrorCode.MESSAGE_INVALID : brokerStatusToCode(numeric);
    const mayBeStored = brokerStatusMayBeStored(code);
    const what = mayBeStored
      ? `broker could not confirm the send to ${context.topic} (the message may have been stored)`
      : `broker rejected the send to ${context.topic}`;
    return new RocketMQError(code, `${what}: ${text}`, { ...details, status: numeric, mayBeStored });
  }
  if (typeof numeric === 'number' && 'details' in error) {
    const text = String((error as { details?: unknown }).details || error.message);
    const code = grpcStatusToCode(numeric, text);
    const mayBeStored = GRPC_AMBIGUOUS.has(numeric) && requestMayHaveArrived(error);
    const outcome = mayBeStored ? 'the message may have been stored' : 'the request never reached the broker';
    return new RocketMQError(
      code,
      `gRPC call to the broker failed for ${context.topic} (${outcome}): ${text}`,
      { ...details, status: numeric, mayBeStored },
    );
  }
  for (const [pattern, code] of LOCAL_CHECKS) {
    if (pattern.test(error.message)) {
      return new RocketMQError(code, `send to ${context.topic} refused: ${error.message}`, details);
    }
  }
  return new RocketMQError(ErrorCode.UNKNOWN, `send to ${context.topic} failed: ${error.message}`, {
    ...details,
    mayBeStored: requestMayHaveArrived(error),
  });
}

/** Whether the error came from the transport in a way that a fresh channel could cure. */
export function looksLikeStaleChannel(error: RocketMQError): boolean {
  if (error.code === ErrorCode.TIMEOUT && error.status === undefined) return true;
  return error.status !== undefined && error.status < 10000 && STALE_CHANNEL_GRPC_CODES.has(error.status);
}
