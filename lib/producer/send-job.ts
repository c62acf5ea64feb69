import type { RocketMQError } from '../errors.js';
import type { PreparedMessage } from '../message.js';
import { expiryError } from './deadline.js';
import type { SendTrace } from './observe.js';
import type { PendingSend } from './pending.js';
import type { SendCallback, SendFailure, SendResult } from './types.js';

/** What a job needs from its producer: reporting, persisting, and leaving the producer's books. */
export interface JobHooks {
  success(trace: SendTrace, result: SendResult): void;
  failure(trace: SendTrace, error: RocketMQError): void;
  dropped(trace: SendTrace): void;
  /** Persists a failed async message; resolves whether it is durable. Undefined: no spool. */
  persist: ((message: PreparedMessage, error: RocketMQError) => Promise<boolean>) | undefined;
  spooled(trace: SendTrace, error: RocketMQError): void;
  /** Runs user code (a callback), so that a throwing callback cannot break the producer. */
  invoke(callback: () => void): void;
}

/**
 * The life of one async send, settled exactly once: `open` (waiting for room or on the wire), then
 * either `done` on success, or `persisting` while a failed message is written to the spool and `done`
 * once the write is durable — or once the drain's deadline leaves no more time for it.
 */
export class AsyncSendJob implements PendingSend {
  readonly mode = 'async';
  readonly done: Promise<void>;
  readonly message: PreparedMessage;
  readonly trace: SendTrace;
  readonly #callback: SendCallback;
  readonly #hooks: JobHooks;
  /** Takes the job off the producer's and the invocation's lists of pending sends. */
  untrack: () => void = () => undefined;
  #state: 'open' | 'persisting' | 'done' = 'open';
  #finish!: () => void;
  #failure: RocketMQError | undefined;
  /** Whether the request went on the wire: an expiry before that cannot have stored anything. */
  wired = false;
  /** Takes the job out of whichever queue it waits in. */
  leaveQueue: () => void = () => undefined;

  constructor(message: PreparedMessage, trace: SendTrace, callback: SendCallback, hooks: JobHooks) {
    this.message = message;
    this.trace = trace;
    this.#callback = callback;
    this.#hooks = hooks;
    this.done = new Promise<void>((resolve) => {
      this.#finish = resolve;
    });
  }

  get open(): boolean {
    return this.#state === 'open';
  }

  get waiting(): boolean {
    return this.#state === 'open' && !this.wired;
  }

  succeed(result: SendResult): void {
    if (this.#state !== 'open') return;
    this.#state = 'done';
    this.#hooks.success(this.trace, result);
    this.#end(() => this.#callback.onSuccess(result));
  }

  fail(error: RocketMQError): void {
    if (this.#state !== 'open') return;
    this.#hooks.failure(this.trace, error);
    const persist = this.#hooks.persist;
    if (!persist) {
      this.#report(error, false);
      return;
    }
    this.#state = 'persisting';
    this.#failure = error;
    persist(this.message, error).then(
      (spooled) => {
        if (this.#state !== 'persisting') return;
        if (spooled) this.#hooks.spooled(this.trace, error);
        this.#report(error, spooled);
      },
      () => {
        if (this.#state === 'persisting') this.#report(error, false);
      },
    );
  }

  expire(): boolean {
    if (this.#state !== 'open') return false;
    this.leaveQueue();
    this.fail(expiryError(this.message.topic, this.wired));
    return true;
  }

  abandon(): boolean {
    if (this.#state !== 'persisting') return false;
    this.#report(this.#failure as RocketMQError, false);
    return true;
  }

  #report(exception: RocketMQError, spooled: boolean): void {
    this.#state = 'done';
    const failure: SendFailure = {
      topic: this.message.topic,
      messageId: exception.messageId,
      exception,
      spooled,
    };
    this.#end(() => this.#callback.onException(failure));
  }

  #end(callback: () => void): void {
    this.leaveQueue();
    this.untrack();
    this.#hooks.invoke(callback);
    this.#finish();
  }
}

/** One oneway send: counted once as sent, failed or dropped. */
export class OnewaySendJob implements PendingSend {
  readonly mode = 'oneway';
  readonly done: Promise<void>;
  readonly trace: SendTrace;
  readonly #hooks: JobHooks;
  untrack: () => void = () => undefined;
  #open = true;
  #finish!: () => void;
  /** Whether the request went on the wire. */
  wired = false;
  leaveQueue: () => void = () => undefined;

  constructor(trace: SendTrace, hooks: JobHooks) {
    this.trace = trace;
    this.#hooks = hooks;
    this.done = new Promise<void>((resolve) => {
      this.#finish = resolve;
    });
  }

  get open(): boolean {
    return this.#open;
  }

  get waiting(): boolean {
    return this.#open && !this.wired;
  }

  succeed(result: SendResult): void {
    if (this.#close()) this.#hooks.success(this.trace, result);
  }

  fail(error: RocketMQError): void {
    if (this.#close()) this.#hooks.failure(this.trace, error);
  }

  drop(): void {
    if (this.#close()) this.#hooks.dropped(this.trace);
  }

  expire(): boolean {
    if (!this.#open) return false;
    this.drop();
    return true;
  }

  abandon(): boolean {
    return false;
  }

  #close(): boolean {
    if (!this.#open) return false;
    this.#open = false;
    this.leaveQueue();
    this.untrack();
    this.#finish();
    return true;
  }
}
