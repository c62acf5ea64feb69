import { type ClientHttp2Session, connect } from 'node:http2';

/**
 * One HTTP/2 connection and what the channel knows about it. A session taken out of use is destroyed
 * once its last call ends; `Http2Session.close()` is never used, because a session closed while the
 * peer is silent and then destroyed never emits 'close' and keeps the process alive (Node 20).
 */
export class Session {
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

  /**
   * Dials `url`; `clock` stamps the connect as the first sign of life, `onClose` hears when the
   * connection is gone. An idle session does not keep the process alive.
   */
  static open(url: string, clock: () => number, onClose: (session: Session) => void): Session {
    const http2 = connect(url, { settings: { enablePush: false } });
    const session = new Session(http2, clock());
    http2.unref();
    http2.once('connect', () => {
      session.connected = true;
      session.lastAnswerAt = clock();
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
      onClose(session);
    });
    return session;
  }

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
