import type { OutgoingHttpHeaders } from 'node:http2';
import { Session } from './session.js';
import { unaryCall } from './unary-call.js';

/**
 * gRPC unary calls to one endpoint over one `node:http2` session at a time (./session.ts), each call
 * made by ./unary-call.ts; this module decides which session a call goes on.
 *
 * Freeze and thaw: a serverless instance is frozen between invocations, and a connection that was idle
 * for long may be gone without either side having been told (a NAT or load balancer forgot it, or the
 * broker closed it while the instance could not read). So a session that has not been answered for
 * longer than `idleReconnectMs` is not trusted: the next call opens a fresh session, and the first send
 * after a thaw costs one connect plus one send instead of a timeout plus a retry. No timer is left
 * running between calls, and an idle session does not keep the process alive.
 */

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
    const session = Session.open(`${this.#scheme}://${this.authority}`, this.#options.idleClock, (closed) => {
      this.#retired.delete(closed);
      if (this.#session === closed) this.#session = undefined;
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
   * (it is added to), `body` the encoded request; resolves with the encoded answer. Fails with a
   * `GrpcCallError` carrying the gRPC status and whether the request reached the connection.
   */
  unary(path: string, metadata: OutgoingHttpHeaders, body: Uint8Array, deadline: number): Promise<Buffer> {
    const target = {
      session: this.#currentSession(),
      scheme: this.#scheme,
      authority: this.authority,
      idleClock: this.#options.idleClock,
      onAnswer: this.#options.onAnswer,
    };
    return unaryCall(target, { path, metadata, body, deadline });
  }
}
