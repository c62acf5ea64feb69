import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect,
  constants,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http2';
import { GrpcCallError, GrpcStatus } from '../errors.js';

/**
 * gRPC unary calls over one `node:http2` session per endpoint: length-prefixed frames, `grpc-timeout`,
 * the status from the trailers (or from the headers of a trailers-only answer).
 *
 * Freeze and thaw: a serverless instance is frozen between invocations, and a connection that was idle
 * for long may be gone without either side having been told (a NAT or load balancer forgot it, or the
 * broker closed it while the instance could not read). So a session that has not been answered for
 * longer than `idleReconnectMs` is not trusted: the next call opens a fresh session, and the first send
 * after a thaw costs one connect plus one send instead of a timeout plus a retry. No timer is left
 * running between calls, and an idle session does not keep the process alive.
 */

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

export interface ChannelOptions {
  /** `host:port` to dial. */
  authority: string;
  tls: boolean;
  /** A session not answered for longer than this is replaced before the next call. */
  idleReconnectMs: number;
  /** The clock idleness is measured with (tests move it to simulate a long freeze); deadlines use Date.now. */
  idleClock: () => number;
  /** Called on every answer from the broker (any response headers). */
  onAnswer: () => void;
  /** Where the channel says what it does with connections (printf style). */
  log: (message: string, ...args: unknown[]) => void;
}

/**
 * One HTTP/2 connection and what the channel knows about it. A session taken out of use is destroyed
 * once its last call ends; `Http2Session.close()` is never used, because a session closed while the
 * peer is silent and then destroyed never emits 'close' and keeps the process alive (Node 20).
 */
class Session {
  readonly http2: ClientHttp2Session;
  connected = false;
  /** Set once the session can no longer carry new calls. */
  dead = false;
  /** Why the connection failed, if it failed before it was established. */
  connectError: Error | undefined;
  lastAnswerAt: number;
  active = 0;
  /** Called when the last call on a dead session has ended. */
  onDrained: (() => void) | undefined;

  constructor(http2: ClientHttp2Session, now: number) {
    this.http2 = http2;
    this.lastAnswerAt = now;
  }

  /** Keeps the process alive only while a call is in flight. */
  callStarted(): void {
    if (this.active++ === 0) this.http2.ref();
  }

  callEnded(): void {
    if (--this.active > 0 || this.http2.destroyed) return;
    if (this.dead) {
      this.http2.destroy();
      this.onDrained?.();
    } else {
      this.http2.unref();
    }
  }

  /** No new calls; destroyed now if idle, else when its last call ends. */
  retire(): void {
    this.dead = true;
    if (this.active === 0 && !this.http2.destroyed) this.http2.destroy();
  }
}

const GRPC_CONTENT_TYPE = 'application/grpc';

/** `grpc-timeout`: at most 8 digits, so milliseconds up to ~27 hours. */
function grpcTimeout(ms: number): string {
  return `${Math.max(1, Math.ceil(ms))}m`;
}

/** The gRPC status a non-200 HTTP answer stands for (gRPC's HTTP-to-gRPC status mapping). */
function httpStatusToGrpc(status: number): number {
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

function decodeGrpcMessage(value: unknown): string {
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
function unframe(chunks: Buffer[]): Buffer {
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

export class GrpcChannel {
  readonly authority: string;
  readonly #options: ChannelOptions;
  readonly #scheme: string;
  #session: Session | undefined;
  /** Sessions replaced while calls were still on them; closed once those end. */
  readonly #retired = new Set<Session>();

  constructor(options: ChannelOptions) {
    this.#options = options;
    this.authority = options.authority;
    this.#scheme = options.tls ? 'https' : 'http';
  }

  /** The session to use now: the current one, unless it is dead or has been silent too long. */
  #currentSession(): Session {
    const current = this.#session;
    if (current) {
      if (!current.dead) {
        const silentFor = this.#options.idleClock() - current.lastAnswerAt;
        if (silentFor <= this.#options.idleReconnectMs) return current;
        this.#options.log(
          'session to %s silent for %d ms (frozen?): connecting afresh',
          this.authority,
          silentFor,
        );
      }
      // A session that failed or got GOAWAY is let go as well, once its calls have ended.
      this.#retire(current);
    }
    return this.#open();
  }

  #open(): Session {
    this.#options.log(
      'connecting to %s (%s)',
      this.authority,
      this.#scheme === 'https' ? 'TLS' : 'plaintext',
    );
    const http2 = connect(`${this.#scheme}://${this.authority}`, {
      settings: { enablePush: false },
    });
    const session = new Session(http2, this.#options.idleClock());
    http2.unref();
    http2.once('connect', () => {
      session.connected = true;
      session.lastAnswerAt = this.#options.idleClock();
    });
    http2.on('error', (error: Error) => {
      if (!session.connected) session.connectError = error;
      session.dead = true;
    });
    http2.once('goaway', () => {
      session.dead = true;
    });
    http2.once('close', () => {
      session.dead = true;
      this.#retired.delete(session);
      if (this.#session === session) this.#session = undefined;
    });
    this.#session = session;
    return session;
  }

  /** Takes a session out of use; it is destroyed once its calls have ended. */
  #retire(session: Session): void {
    if (this.#session === session) this.#session = undefined;
    session.retire();
    if (!session.http2.destroyed) {
      this.#retired.add(session);
      session.onDrained = () => this.#retired.delete(session);
    }
  }

  /**
   * Takes the current session out of use: the next call connects afresh. Calls still on it may yet be
   * answered (a slow broker is not a dead one), so they keep running until they end or reach their
   * deadline; then it closes.
   */
  reset(): void {
    const current = this.#session;
    if (current) this.#retire(current);
  }

  /** Closes every session: lets calls in flight finish until `graceMs`, then cuts them. */
  async close(graceMs: number): Promise<void> {
    const sessions = [...this.#retired, ...(this.#session ? [this.#session] : [])];
    this.#session = undefined;
    this.#retired.clear();
    await Promise.all(
      sessions.map(
        (session) =>
          new Promise<void>((resolve) => {
            session.retire();
            if (session.http2.destroyed) {
              resolve();
              return;
            }
            const timer = setTimeout(() => {
              session.http2.destroy();
              resolve();
            }, graceMs);
            timer.unref();
            session.onDrained = () => {
              clearTimeout(timer);
              resolve();
            };
          }),
      ),
    );
  }

  /**
   * One unary call: `path` is `/package.Service/Method`, `metadata` a headers object made for this call
   * (it is added to), `body` the encoded request; resolves with the encoded answer. Fails with a {@link GrpcCallError} carrying the gRPC status and whether the request
   * reached the connection.
   */
  unary(path: string, metadata: OutgoingHttpHeaders, body: Uint8Array, deadline: number): Promise<Buffer> {
    const session = this.#currentSession();
    const options = this.#options;
    return new Promise<Buffer>((resolve, reject) => {
      const remaining = deadline - Date.now();
      // The metadata object is made for this call alone, so the call's own headers go straight into it.
      const headers = metadata;
      headers[HTTP2_HEADER_METHOD] = 'POST';
      headers[HTTP2_HEADER_PATH] = path;
      headers[HTTP2_HEADER_SCHEME] = this.#scheme;
      headers[HTTP2_HEADER_AUTHORITY] = this.authority;
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
            `Deadline exceeded after ${Math.max(0, remaining)}ms (${session.connected ? 'connected' : 'connecting'} to ${this.authority})`,
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
        session.lastAnswerAt = options.idleClock();
        options.onAnswer();
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
          settle(
            new GrpcCallError(httpStatusToGrpc(status), `HTTP status ${status} from ${this.authority}`, true),
          );
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
              ? `connection to ${this.authority} failed during the call: ${reason}`
              : `No connection established to ${this.authority}: ${reason}`,
            written,
          ),
        );
      });
      stream.end(frame(body));
    });
  }
}
