import {
  type ClientHttp2Stream,
  constants,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http2';
import { GrpcCallError, GrpcStatus } from '../errors.js';
import type { Session } from './session.js';
import {
  decodeGrpcMessage,
  frame,
  GRPC_CONTENT_TYPE,
  grpcTimeout,
  httpStatusToGrpc,
  unframe,
} from './wire.js';

const {
  HTTP2_HEADER_METHOD,
  HTTP2_HEADER_PATH,
  HTTP2_HEADER_SCHEME,
  HTTP2_HEADER_AUTHORITY,
  HTTP2_HEADER_CONTENT_TYPE,
  HTTP2_HEADER_TE,
  HTTP2_HEADER_STATUS,
  NGHTTP2_CANCEL,
  NGHTTP2_REFUSED_STREAM,
} = constants;

export interface UnaryCall {
  /** `/package.Service/Method`. */
  path: string;
  /** A headers object made for this call alone; the call's own headers are added to it. */
  metadata: OutgoingHttpHeaders;
  /** The encoded request. */
  body: Uint8Array;
  /** Epoch milliseconds by which the answer must have arrived. */
  deadline: number;
}

export interface CallTarget {
  session: Session;
  scheme: string;
  /** `host:port` of the peer, for the `:authority` header and error messages. */
  authority: string;
  /** The clock a session's last answer is stamped with. */
  idleClock: () => number;
  /** Called on every answer from the broker (any response headers). */
  onAnswer: () => void;
}

/**
 * One unary call on one session: resolves with the encoded answer, or fails with a
 * {@link GrpcCallError} that carries the gRPC status (from the trailers, or from the headers of a
 * trailers-only answer) and whether the request reached the connection.
 */
export function unaryCall(target: CallTarget, call: UnaryCall): Promise<Buffer> {
  const { session, authority } = target;
  return new Promise<Buffer>((resolve, reject) => {
    const remaining = call.deadline - Date.now();
    const headers = call.metadata;
    headers[HTTP2_HEADER_METHOD] = 'POST';
    headers[HTTP2_HEADER_PATH] = call.path;
    headers[HTTP2_HEADER_SCHEME] = target.scheme;
    headers[HTTP2_HEADER_AUTHORITY] = authority;
    headers[HTTP2_HEADER_CONTENT_TYPE] = GRPC_CONTENT_TYPE;
    headers[HTTP2_HEADER_TE] = 'trailers';
    headers['grpc-timeout'] = grpcTimeout(remaining);
    let stream: ClientHttp2Stream;
    try {
      stream = session.http2.request(headers);
    } catch (error) {
      // The session was closed or destroyed under us: nothing was written.
      session.dead = true;
      reject(new GrpcCallError(GrpcStatus.UNAVAILABLE, (error as Error).message, false));
      return;
    }
    session.callStarted();
    const chunks: Buffer[] = [];
    let status: number | undefined;
    let grpcStatus: string | undefined;
    let grpcMessage: unknown;
    let settled = false;
    let streamError: Error | undefined;

    const settle = (error: Error | undefined, value?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.callEnded();
      if (error) reject(error);
      else resolve(value as Buffer);
    };

    const timer = setTimeout(() => {
      const written = session.connected;
      stream.close(NGHTTP2_CANCEL);
      settle(
        new GrpcCallError(
          GrpcStatus.DEADLINE_EXCEEDED,
          `Deadline exceeded after ${Math.max(0, remaining)}ms (${session.connected ? 'connected' : 'connecting'} to ${authority})`,
          written,
        ),
      );
    }, remaining);
    timer.unref();

    const takeStatus = (fields: IncomingHttpHeaders) => {
      const value = fields['grpc-status'];
      if (value !== undefined) {
        grpcStatus = Array.isArray(value) ? value[0] : value;
        grpcMessage = fields['grpc-message'];
      }
    };

    stream.on('response', (fields) => {
      session.lastAnswerAt = target.idleClock();
      target.onAnswer();
      status = Number(fields[HTTP2_HEADER_STATUS]);
      takeStatus(fields);
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('trailers', takeStatus);
    stream.on('error', (error: Error) => {
      streamError = error;
    });
    stream.on('close', () => {
      if (settled) return;
      if (grpcStatus !== undefined) {
        const code = Number(grpcStatus);
        if (code !== 0) {
          settle(new GrpcCallError(code, decodeGrpcMessage(grpcMessage) || `gRPC status ${code}`, true));
          return;
        }
        try {
          settle(undefined, unframe(chunks));
        } catch (error) {
          settle(error as Error);
        }
        return;
      }
      if (status !== undefined && status !== 200) {
        settle(new GrpcCallError(httpStatusToGrpc(status), `HTTP status ${status} from ${authority}`, true));
        return;
      }
      const cause = session.connectError ?? streamError;
      // A stream the server refused (GOAWAY, stream limit) was not processed: as good as unsent.
      const written = session.connected && stream.rstCode !== NGHTTP2_REFUSED_STREAM;
      const reason = cause?.message ?? `stream closed (code ${stream.rstCode ?? 'none'})`;
      settle(
        new GrpcCallError(
          GrpcStatus.UNAVAILABLE,
          written
            ? `connection to ${authority} failed during the call: ${reason}`
            : `No connection established to ${authority}: ${reason}`,
          written,
        ),
      );
    });
    stream.end(frame(call.body));
  });
}
