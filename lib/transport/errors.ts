/**
 * The error shapes every transport throws, so that `classifyError` maps them the same way whichever
 * transport sent: a broker verdict has the broker's numeric status as `code` (≥ 10000), a gRPC failure
 * has the gRPC status as numeric `code` and its text as `details` (as grpc-js errors do).
 */

/** gRPC status codes the lean transport produces itself. */
export const GrpcStatus = {
  CANCELLED: 1,
  UNKNOWN: 2,
  DEADLINE_EXCEEDED: 4,
  RESOURCE_EXHAUSTED: 8,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

const GRPC_STATUS_NAMES: Record<number, string> = {
  0: 'OK',
  1: 'CANCELLED',
  2: 'UNKNOWN',
  3: 'INVALID_ARGUMENT',
  4: 'DEADLINE_EXCEEDED',
  5: 'NOT_FOUND',
  6: 'ALREADY_EXISTS',
  7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED',
  9: 'FAILED_PRECONDITION',
  10: 'ABORTED',
  11: 'OUT_OF_RANGE',
  12: 'UNIMPLEMENTED',
  13: 'INTERNAL',
  14: 'UNAVAILABLE',
  15: 'DATA_LOSS',
  16: 'UNAUTHENTICATED',
};

/** A call that failed at the gRPC layer, shaped like a grpc-js `ServiceError`. */
export class GrpcCallError extends Error {
  override readonly name = 'GrpcCallError';
  readonly code: number;
  readonly details: string;
  /** Whether the request reached the connection; `false` means the broker cannot have it. */
  readonly requestWritten: boolean;

  constructor(code: number, details: string, requestWritten: boolean) {
    super(`${code} ${GRPC_STATUS_NAMES[code] ?? 'UNKNOWN'}: ${details}`);
    this.code = code;
    this.details = details;
    this.requestWritten = requestWritten;
  }
}

/** The broker answered with a non-OK status (40402, 40100, 50001, …). */
export class BrokerStatusError extends Error {
  override readonly name = 'BrokerStatusError';
  readonly code: number;
  /** The broker answered, so it had the request. */
  readonly requestWritten = true;

  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

/** grpc-js reports a call that never got a connection this way; nothing was written. */
const NOT_CONNECTED = /No connection established|Failed to connect|Name resolution failed/i;

/**
 * Sets `requestWritten` on an error from the official client, where it can be told: a broker status
 * was an answer; a grpc-js "no connection established" never left the process; a check the client made
 * locally (a plain `TypeError`) never reached the wire. Other gRPC failures count as written.
 */
export function markRequestWritten(error: unknown): unknown {
  if (!(error instanceof Error) || 'requestWritten' in error) return error;
  const code = (error as { code?: unknown }).code;
  let written: boolean;
  if (typeof code === 'number' && code >= 10000) written = true;
  else if (typeof code === 'number' && 'details' in error) {
    written = !NOT_CONNECTED.test(String((error as { details?: unknown }).details));
  } else written = false;
  return Object.assign(error, { requestWritten: written });
}
