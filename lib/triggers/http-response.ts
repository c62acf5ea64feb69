import type { APIGatewayProxyResult, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ErrorCode, isRocketMQError } from '../errors.js';
import { MethodNotAllowedError } from './http-method.js';

/**
 * One response shape for handlers, converted to what each platform expects, and the mapping from our
 * error codes to HTTP status codes.
 */

export interface HttpResponse {
  statusCode: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: string | Buffer;
}

/** What an FC 3.0 HTTP handler returns; FC reads these four fields when `statusCode` is present. */
export interface FcHttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: boolean;
}

const JSON_HEADERS = { 'content-type': 'application/json' } as const;

function lowerCaseNames(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

/**
 * A JSON response. `headers` are added to (and may override) `content-type: application/json`.
 * `undefined` serialises as `null`, so the body is always valid JSON.
 */
export function jsonResponse(
  statusCode: number,
  value: unknown,
  headers: Record<string, string> = {},
): HttpResponse {
  return {
    statusCode,
    headers: { ...JSON_HEADERS, ...lowerCaseNames(headers) },
    body: JSON.stringify(value) ?? 'null',
  };
}

// Client mistakes: the message is ours and describes the client's own input, so it is safe to return.
const CLIENT_ERROR_STATUS: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.EVENT_INVALID]: 400,
  [ErrorCode.MESSAGE_INVALID]: 400,
  [ErrorCode.MESSAGE_TOO_LARGE]: 413,
  [ErrorCode.PAYLOAD_TOO_LARGE]: 413,
  [ErrorCode.METHOD_NOT_ALLOWED]: 405,
};

// Not retryable for our own retry loop (no broker was asked), but another attempt by the client a moment
// later, possibly on another instance, can succeed.
const UNAVAILABLE_LOCALLY: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCode.IN_FLIGHT_FULL,
  ErrorCode.PRODUCER_CLOSED,
]);

const UNAVAILABLE_MESSAGE = 'The service is temporarily unavailable; retry later.';
const UNKNOWN_OUTCOME_MESSAGE =
  'The outcome is unknown: the request may have been accepted. Retry with the same identifiers; duplicates are recognised by them.';
const INTERNAL_MESSAGE = 'The request could not be processed.';

interface ErrorBody {
  code: string;
  message: string;
  field?: string;
  mayBeStored?: true;
}

/**
 * The HTTP response for an error thrown while handling a request:
 * - EVENT_INVALID, MESSAGE_INVALID → 400; MESSAGE_TOO_LARGE, PAYLOAD_TOO_LARGE → 413;
 *   METHOD_NOT_ALLOWED → 405 with `Allow`. These return the error's message and `field`.
 * - a send that failed after its request may have reached the broker (`mayBeStored`: a timeout, a
 *   connection lost mid-call) → 504 with `mayBeStored: true` and no `Retry-After`: the message may be
 *   stored, so a blind retry may duplicate it; a retry with the same keys is safe for consumers that
 *   deduplicate by key.
 * - other retryable errors (broker unreachable before the request was written, throttled by the broker)
 *   and local IN_FLIGHT_FULL / PRODUCER_CLOSED → 503 with `Retry-After: 1`: nothing was stored.
 * - everything else (TOPIC_NOT_FOUND, UNAUTHORIZED, FORBIDDEN, non-library errors, …) → 500.
 * 5xx bodies carry only the stable `code` and a generic message: their cause is our configuration or
 * infrastructure, whose details (endpoints, topic names, credentials) are no business of the caller.
 */
export function errorResponse(error: unknown): HttpResponse {
  if (!isRocketMQError(error)) {
    return jsonResponse(500, { error: { code: ErrorCode.UNKNOWN, message: INTERNAL_MESSAGE } });
  }
  const clientStatus = CLIENT_ERROR_STATUS[error.code];
  if (clientStatus !== undefined) {
    const body: ErrorBody = { code: error.code, message: error.message };
    if (error.field !== undefined) body.field = error.field;
    const headers: Record<string, string> = {};
    if (error instanceof MethodNotAllowedError) headers.allow = error.allowed.join(', ');
    return jsonResponse(clientStatus, { error: body }, headers);
  }
  if (error.mayBeStored) {
    return jsonResponse(504, {
      error: { code: error.code, message: UNKNOWN_OUTCOME_MESSAGE, mayBeStored: true },
    });
  }
  if (error.retryable || UNAVAILABLE_LOCALLY.has(error.code)) {
    return jsonResponse(
      503,
      { error: { code: error.code, message: UNAVAILABLE_MESSAGE } },
      { 'retry-after': '1' },
    );
  }
  return jsonResponse(500, { error: { code: error.code, message: INTERNAL_MESSAGE } });
}

function encodeBody(body: string | Buffer): { body: string; isBase64Encoded: boolean } {
  return typeof body === 'string'
    ? { body, isBase64Encoded: false }
    : { body: body.toString('base64'), isBase64Encoded: true };
}

/** The FC 3.0 HTTP handler result; a Buffer body is sent base64-encoded. */
export function toFcHttpResponse(response: HttpResponse): FcHttpResponse {
  return { statusCode: response.statusCode, headers: { ...response.headers }, ...encodeBody(response.body) };
}

/** The API Gateway REST (payload 1.0) proxy result. */
export function toApiGatewayV1Response(response: HttpResponse): APIGatewayProxyResult {
  return { statusCode: response.statusCode, headers: { ...response.headers }, ...encodeBody(response.body) };
}

/** The API Gateway HTTP API (payload 2.0) structured result. */
export function toApiGatewayV2Response(response: HttpResponse): APIGatewayProxyStructuredResultV2 {
  return { statusCode: response.statusCode, headers: { ...response.headers }, ...encodeBody(response.body) };
}
