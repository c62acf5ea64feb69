import { GrpcCallError, GrpcStatus } from '../errors.js';

/**
 * gRPC's rules for carrying a unary call over HTTP/2: the content type, the `grpc-timeout` header,
 * the 5-byte message frame, the status a non-200 HTTP answer stands for, and the percent-encoded
 * `grpc-message`.
 */

export const GRPC_CONTENT_TYPE = 'application/grpc';

/** `grpc-timeout`: at most 8 digits, so milliseconds up to ~27 hours. */
export function grpcTimeout(ms: number): string {
  return `${Math.max(1, Math.ceil(ms))}m`;
}

/** The gRPC status a non-200 HTTP answer stands for (gRPC's HTTP-to-gRPC status mapping). */
export function httpStatusToGrpc(status: number): number {
  switch (status) {
    case 400:
      return GrpcStatus.INTERNAL;
    case 401:
      return 16;
    case 403:
      return 7;
    case 404:
      return 12;
    case 429:
    case 502:
    case 503:
    case 504:
      return GrpcStatus.UNAVAILABLE;
    default:
      return GrpcStatus.UNKNOWN;
  }
}

export function decodeGrpcMessage(value: unknown): string {
  if (typeof value !== 'string') return '';
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Prefixes a protobuf message with gRPC's 5-byte frame header (not compressed, 32-bit length). */
export function frame(message: Uint8Array): Buffer {
  const framed = Buffer.allocUnsafe(5 + message.length);
  framed[0] = 0;
  framed.writeUInt32BE(message.length, 1);
  framed.set(message, 5);
  return framed;
}

/** The one message of a unary answer, from its 5-byte frame. */
export function unframe(chunks: Buffer[]): Buffer {
  const data = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
  if (data.length < 5) throw new GrpcCallError(GrpcStatus.INTERNAL, 'answer has no message frame', true);
  if (data[0] !== 0) {
    throw new GrpcCallError(GrpcStatus.INTERNAL, 'answer is compressed, which was not negotiated', true);
  }
  const length = data.readUInt32BE(1);
  if (data.length < 5 + length)
    throw new GrpcCallError(GrpcStatus.INTERNAL, 'answer frame is cut short', true);
  return data.subarray(5, 5 + length);
}
