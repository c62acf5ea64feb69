import { type Credentials, type ResolvedConfig, rejectUnknownKeys, resolveConfig } from '../config.js';
import { ErrorCode, RocketMQError } from '../errors.js';
import { clientLoggerAdapter, getLogger, type LibraryLog, libraryLog } from '../log.js';
import { type Message, type PreparedMessage, validateMessage } from '../message.js';
import type { RedeliverOptions, RedeliverReport, Spool } from '../spool/spool.js';
import { currentInvocation, currentTraceparent } from '../trace-context.js';
import { Batcher } from './batcher.js';
import { classifyError } from './classify.js';
import {
  checkDeadlineOptions,
  type DeadlineOptions,
  resolveDeadline,
  timeoutError,
  withDeadline,
} from './deadline.js';
import { InFlightLimiter, type InFlightLimits, SendWindow } from './in-flight.js';
import { SendObserver, type SendTrace } from './observe.js';
import {
  PRODUCER_KEYS,
  type ProducerOptions,
  resolveBatching,
  resolveLimits,
  resolveSpool,
} from './options.js';
import { drainPending, type PendingSend } from './pending.js';
import { RetryingSender } from './retry.js';
import { type ProducerStats, StatsRecorder } from './stats.js';
import { createClientTransport, type Transport } from './transport.js';
import type { DrainOptions, DrainResult, SendCallback, SendOptions, SendResult } from './types.js';

export type { ProducerOptions } from './options.js';
export type {
  DrainOptions,
  DrainResult,
  SendCallback,
  SendFailure,
  SendOptions,
  SendResult,
} from './types.js';

/**
 * A RocketMQ producer with the three send modes of ApsaraMQ's normal messages on one promise core:
 * `send` (sync), `sendAsync` (callback or promise, failures spooled) and `sendOneway` (fire and forget).
 * The underlying client starts lazily on the first send; `drain` and `shutdown` bound the work a
 * serverless invocation leaves behind.
 */
export class Producer {
  readonly config: ResolvedConfig;
  readonly spool: Spool | undefined;
  readonly #logger: LibraryLog;
  readonly #transport: Transport;
  readonly #stats = new StatsRecorder();
  readonly #pending = new Set<PendingSend>();
  readonly #observer: SendObserver;
  readonly #sender: RetryingSender;
  readonly #onewayBatcher: Batcher<SendResult, SendTrace> | undefined;
  readonly #asyncBatcher: Batcher<SendResult, SendTrace> | undefined;
  readonly #limits: Required<InFlightLimits>;
  readonly #limiter: InFlightLimiter;
  readonly #window: SendWindow;
  #closing: Promise<void> | undefined;

  constructor(options: ProducerOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new RocketMQError(ErrorCode.CONFIG_INVALID, 'producer options must be an object');
    }
    rejectUnknownKeys(options, PRODUCER_KEYS, 'producer');
    const {
      logger,
      spool,
      transportFactory,
      onewayBatching,
      asyncBatching,
      maxInFlight,
      maxInFlightBytes,
      maxConcurrentSends,
      ...configOptions
    } = options;
    this.#limits = resolveLimits({ maxInFlight, maxInFlightBytes, maxConcurrentSends });
    this.#window = new SendWindow(this.#limits.maxConcurrentSends);
    this.#limiter = new InFlightLimiter(this.#limits);
    this.config = resolveConfig(configOptions);
    this.#logger = libraryLog(logger ?? getLogger());
    this.spool = resolveSpool(spool);
    this.#transport = (transportFactory ?? createClientTransport)(
      this.config,
      clientLoggerAdapter(this.#logger),
    );
    this.#observer = new SendObserver(this.#logger, this.#stats);
    this.#sender = new RetryingSender(
      this.#transport,
      this.config,
      this.#observer,
      this.#stats,
      this.#logger,
    );
    const batchSender =
      (maxAttempts: number) => (messages: PreparedMessage[], traces: SendTrace[], deadline: number) =>
        this.#onWire(messages[0]?.topic ?? '', deadline, () =>
          this.#sender.deliverBatch(messages, traces, deadline, maxAttempts),
        );
    const oneway = resolveBatching(onewayBatching, 'onewayBatching');
    if (oneway) this.#onewayBatcher = new Batcher(oneway, batchSender(1));
    const async = resolveBatching(asyncBatching, 'asyncBatching');
    if (async) this.#asyncBatcher = new Batcher(async, batchSender(this.config.retry.maxAttempts));
  }

  /** Whether `shutdown()` was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  #prepare(message: Message): PreparedMessage {
    if (this.#closing) {
      throw new RocketMQError(ErrorCode.PRODUCER_CLOSED, 'the producer was shut down; create a new one', {
        topic: (message as Partial<Message> | undefined)?.topic,
      });
    }
    const prepared = validateMessage(message, { maxBodyBytes: this.config.maxBodyBytes });
    const traceparent = currentTraceparent();
    if (traceparent !== undefined && prepared.properties.traceparent === undefined) {
      // The prepared copy is the producer's own; the caller's message is never changed.
      (prepared.properties as Record<string, string>).traceparent = traceparent;
    }
    return prepared;
  }

  /** Sends with retries and reports the outcome; the promise core of every mode but oneway. */
  async #deliver(message: PreparedMessage, trace: SendTrace, deadline: number): Promise<SendResult> {
    try {
      const result = await this.#sender.deliver(message, trace, deadline, this.config.retry.maxAttempts);
      this.#observer.success(trace, result.messageId, result.attempts);
      return result;
    } catch (error) {
      this.#observer.failure(trace, error as RocketMQError);
      throw error;
    }
  }

  /**
   * Sync: resolves once the broker stored the message, rejects with a {@link RocketMQError} otherwise.
   * The whole send, retries included, is bounded by `sendTimeoutMs` and by the caller's deadline.
   * Failures are the caller's to handle ("retry or persist the message for later delivery").
   */
  async send(message: Message, options?: SendOptions): Promise<SendResult> {
    checkDeadlineOptions(options, 'send');
    const prepared = this.#prepare(message);
    const deadline = resolveDeadline(options, this.config.sendTimeoutMs);
    return this.#deliver(prepared, this.#observer.start(prepared, 'sync'), deadline);
  }

  /**
   * Async: returns at once. With a callback, exactly one of `onSuccess` / `onException` runs, exactly
   * once and never before `sendAsync` returns; without one, a promise settles the same way. A failed
   * send is written to the spool (when configured) before `onException` runs. Invalid messages throw at
   * once (callback form) or reject (promise form); nothing is sent for them.
   */
  sendAsync(message: Message, callback: SendCallback, options?: SendOptions): void;
  sendAsync(message: Message, options?: SendOptions): Promise<SendResult>;
  sendAsync(
    message: Message,
    callbackOrOptions?: SendCallback | SendOptions,
    maybeOptions?: SendOptions,
  ): undefined | Promise<SendResult> {
    const callback = isCallback(callbackOrOptions) ? callbackOrOptions : undefined;
    if (
      !callback &&
      callbackOrOptions &&
      ('onSuccess' in callbackOrOptions || 'onException' in callbackOrOptions)
    ) {
      throw new RocketMQError(
        ErrorCode.CONFIG_INVALID,
        'a send callback needs both onSuccess and onException functions',
      );
    }
    const options = callback ? maybeOptions : (callbackOrOptions as SendOptions | undefined);
    if (!callback) {
      return new Promise<SendResult>((resolve, reject) => {
        this.sendAsync(
          message,
          {
            onSuccess: resolve,
            // The promise form has only the error to tell a spooled failure from a lost one.
            onException: (failure) => reject(Object.assign(failure.exception, { spooled: failure.spooled })),
          },
          options,
        );
      });
    }
    checkDeadlineOptions(options, 'sendAsync');
    const prepared = this.#prepare(message);
    const deadline = resolveDeadline(options, this.config.sendTimeoutMs);
    const trace = this.#observer.start(prepared, 'async');
    let settled = false;
    let finish!: () => void;
    const pending: PendingSend = {
      mode: 'async',
      done: new Promise<void>((resolve) => {
        finish = resolve;
      }),
      expire: () => void settle(undefined, timeoutError(prepared.topic, 'async send')),
    };
    // Runs once, whichever comes first: the send's own outcome or a drain deadline.
    const settle = async (result: SendResult | undefined, error: RocketMQError | undefined) => {
      if (settled) return;
      settled = true;
      try {
        if (result) {
          this.#observer.success(trace, result.messageId, result.attempts);
          this.#invoke(() => callback.onSuccess(result));
          return;
        }
        const exception = error as RocketMQError;
        this.#observer.failure(trace, exception);
        const spooled = await this.#spool(prepared, trace, exception);
        this.#invoke(() =>
          callback.onException({ topic: prepared.topic, messageId: exception.messageId, exception, spooled }),
        );
      } finally {
        leaveQueue();
        untrack();
        finish();
      }
    };
    let leaveQueue = () => undefined as unknown;
    const untrack = this.#track(pending);
    const bytes = prepared.body.length;
    const batcher = this.#asyncBatcher?.accepts(prepared) ? this.#asyncBatcher : undefined;
    const start = () => {
      (batcher
        ? batcher.add(prepared, deadline, trace)
        : this.#onWire(prepared.topic, deadline, () =>
            this.#sender.deliver(prepared, trace, deadline, this.config.retry.maxAttempts),
          )
      ).then(
        (result) => {
          this.#limiter.release(bytes);
          void settle(result, undefined);
        },
        (error: RocketMQError) => {
          this.#limiter.release(bytes);
          void settle(undefined, error);
        },
      );
    };
    if (this.#limiter.tryAcquire(bytes)) {
      start();
    } else {
      // Over the in-flight bound an async send waits for room, within its own deadline.
      const leave = this.#limiter.enqueue(bytes, () => {
        clearTimeout(timer);
        if (settled) this.#limiter.release(bytes);
        else start();
      });
      const timer = setTimeout(
        () => {
          if (leave()) void settle(undefined, this.#throttled(prepared.topic));
        },
        Math.max(0, deadline - Date.now()),
      );
      leaveQueue = () => {
        clearTimeout(timer);
        leave();
      };
    }
    return undefined;
  }

  /**
   * Oneway: returns at once with no result. One attempt, no retry, no spool; transport failures are
   * counted in `stats().oneway.failed` and logged at debug, never thrown. Use it where an occasional
   * lost message is acceptable (logs, metrics). Invalid messages throw at once.
   */
  sendOneway(message: Message): void {
    const prepared = this.#prepare(message);
    const deadline = Date.now() + this.config.sendTimeoutMs;
    const trace = this.#observer.start(prepared, 'oneway');
    let open = true;
    let finish!: () => void;
    const close = () => {
      open = false;
      untrack();
      finish();
    };
    const pending: PendingSend = {
      mode: 'oneway',
      done: new Promise<void>((resolve) => {
        finish = resolve;
      }),
      expire: () => {
        if (!open) return;
        this.#observer.dropped(trace);
        close();
      },
    };
    const bytes = prepared.body.length;
    if (!this.#limiter.tryAcquire(bytes)) {
      // Over the in-flight bound a oneway send is dropped, never queued: it must not block its caller.
      this.#observer.dropped(trace);
      return;
    }
    const batcher = this.#onewayBatcher?.accepts(prepared) ? this.#onewayBatcher : undefined;
    // Deferred so that sendOneway itself returns before the client does any work for this message.
    const sent = batcher
      ? batcher.add(prepared, deadline, trace)
      : Promise.resolve().then(() =>
          this.#onWire(prepared.topic, deadline, () => this.#sender.deliver(prepared, trace, deadline, 1)),
        );
    sent.then(
      (result) => {
        this.#limiter.release(bytes);
        if (open) this.#observer.success(trace, result.messageId, 1);
        if (open) close();
      },
      (error: RocketMQError) => {
        this.#limiter.release(bytes);
        if (open) this.#observer.failure(trace, error);
        if (open) close();
      },
    );
    const untrack = this.#track(pending);
  }

  /** Runs a call through the send window; a call still waiting for its turn at `deadline` fails TIMEOUT. */
  #onWire<T>(topic: string, deadline: number, call: () => Promise<T>): Promise<T> {
    return this.#window.run(call, deadline, () => timeoutError(topic, 'send waiting for a send slot'));
  }

  /** Counts a send as pending for the producer and for the invocation it was started in, if any. */
  #track(pending: PendingSend): () => void {
    const scope = currentInvocation();
    this.#pending.add(pending);
    scope?.sends.add(pending);
    return () => {
      this.#pending.delete(pending);
      scope?.sends.delete(pending);
    };
  }

  #throttled(topic: string): RocketMQError {
    const { maxInFlight, maxInFlightBytes } = this.#limits;
    return new RocketMQError(
      ErrorCode.THROTTLED,
      `too many sends in flight (bounds: ${maxInFlight} sends, ${maxInFlightBytes} bytes); no room came free before the send's deadline`,
      { topic },
    );
  }

  async #spool(message: PreparedMessage, trace: SendTrace, error: RocketMQError): Promise<boolean> {
    if (!this.spool) return false;
    try {
      await this.spool.append(message, { code: error.code, message: error.message });
      this.#observer.spooled(trace, error);
      return true;
    } catch (spoolError) {
      this.#logger.error({
        message: 'could not spool a failed message',
        topic: message.topic,
        keys: message.keys,
        error: spoolError as Error,
      });
      return false;
    }
  }

  #invoke(callback: () => void): void {
    try {
      callback();
    } catch (error) {
      this.#stats.callbackErrors++;
      this.#logger.error({
        message: 'a send callback threw; the producer ignored it',
        error: error as Error,
      });
    }
  }

  /**
   * Waits for every async and oneway send in flight, up to the deadline (default `sendTimeoutMs`). At
   * the deadline, open async sends fail with TIMEOUT (and are spooled if a spool is configured); open
   * oneway sends are dropped and counted. Sends started while draining are waited for too.
   */
  async drain(options?: DrainOptions): Promise<DrainResult> {
    checkDeadlineOptions(options, 'drain');
    // The caller's bound, when given, is the bound: longer than the send timeout is fine for a drain.
    const bounded = options?.deadline !== undefined || options?.timeoutMs !== undefined;
    const deadline = resolveDeadline(options, bounded ? Number.POSITIVE_INFINITY : this.config.sendTimeoutMs);
    this.#onewayBatcher?.flushAll();
    this.#asyncBatcher?.flushAll();
    // Inside an invocation, its own sends: another request served by the same instance keeps its own.
    const scope = options?.invocationOnly ? currentInvocation() : undefined;
    const result = await drainPending(scope?.sends ?? this.#pending, deadline);
    if (result.expiredAsync + result.droppedOneway > 0) {
      this.#logger.warn({ message: 'drain deadline reached with sends still open', ...result });
    }
    return result;
  }

  /** Resends what the spool holds; removes each record only after the broker acknowledged it. */
  async redeliverSpool(options?: RedeliverOptions): Promise<RedeliverReport> {
    if (!this.spool) return { delivered: 0, failed: 0, rejected: 0, quarantined: 0, remaining: 0 };
    // Each resend is bounded by the caller's deadline too, not only new ones started before it.
    const bound = options?.deadline ?? Number.POSITIVE_INFINITY;
    return this.spool.redeliver(
      (message) =>
        this.#deliver(
          message,
          this.#observer.start(message, 'sync'),
          Math.min(Date.now() + this.config.sendTimeoutMs, bound),
        ),
      options,
    );
  }

  /**
   * Drains (default bound `sendTimeoutMs`), then closes the client and clears every timer it owns, so a
   * script that calls this exits on its own. Idempotent; later sends throw PRODUCER_CLOSED.
   */
  shutdown(options?: DeadlineOptions): Promise<void> {
    this.#closing ??= (async () => {
      await this.drain(options);
      await this.#transport.close();
      this.#logger.info({ message: 'RocketMQ producer shut down', stats: this.stats() });
    })();
    return this.#closing;
  }

  /**
   * Starts the client and looks up the routes of `topics` ahead of the first send (for FC initializers
   * and Lambda init code, whose time is not billed to a request). Bounded by `timeoutMs` (default
   * `sendTimeoutMs`); failures are logged and returned, never thrown: the first send retries them.
   */
  async warmUp(
    topics: readonly string[] = [],
    options?: DeadlineOptions,
  ): Promise<RocketMQError | undefined> {
    const deadline = resolveDeadline(options, this.config.sendTimeoutMs);
    try {
      await withDeadline(this.#transport.warmUp(topics), deadline, topics.join(',') || '(no topic)');
      return undefined;
    } catch (thrown) {
      const error = classifyError(thrown, { topic: topics.join(',') });
      this.#logger.warn({
        message: 'producer warm-up failed; the first send will retry',
        code: error.code,
        topics,
      });
      return error;
    }
  }

  /**
   * Switches to new credentials (e.g. rotated STS credentials from the FC context). The client is
   * replaced only when they differ; sends in flight finish on the old one.
   */
  updateCredentials(credentials: Credentials | undefined): boolean {
    const current = this.config.credentials;
    const same =
      current?.accessKeyId === credentials?.accessKeyId &&
      current?.accessKeySecret === credentials?.accessKeySecret &&
      current?.securityToken === credentials?.securityToken;
    if (same) return false;
    this.config.credentials = credentials;
    this.#transport.reset(this.#transport.generation, true);
    return true;
  }

  stats(): ProducerStats {
    return this.#stats.snapshot(this.#pending.size);
  }
}

function isCallback(value: unknown): value is SendCallback {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as SendCallback).onSuccess === 'function' &&
    typeof (value as SendCallback).onException === 'function'
  );
}
