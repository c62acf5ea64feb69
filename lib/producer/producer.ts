import { type Credentials, type ResolvedConfig, rejectUnknownKeys, resolveConfig } from '../config.js';
import { ErrorCode, RocketMQError } from '../errors.js';
import { clientLoggerAdapter, getLogger, type LibraryLog, libraryLog } from '../log.js';
import { assertPropertyLimits, type Message, type PreparedMessage, validateMessage } from '../message.js';
import type { RedeliverOptions, RedeliverReport, Spool } from '../spool/spool.js';
import { currentTraceparent } from '../trace-context.js';
import { classifyError } from './classify.js';
import {
  checkDeadlineOptions,
  type DeadlineOptions,
  resolveDeadline,
  settledBy,
  timeoutError,
  withDeadline,
} from './deadline.js';
import { DrainPlan, SpoolWriter } from './drain-plan.js';
import { InFlightLimiter, type InFlightLimits, SendWindow } from './in-flight.js';
import { SendObserver, type SendTrace } from './observe.js';
import {
  PRODUCER_KEYS,
  type ProducerOptions,
  resolveLimits,
  resolveSpool,
  resolveSpoolReserve,
} from './options.js';
import { drainPending, type PendingSend, type SendTracker } from './pending.js';
import { RetryingSender } from './retry.js';
import { AsyncSendJob, type JobHooks, OnewaySendJob } from './send-job.js';
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
  readonly #drainHooks = new Set<() => void>();
  readonly #observer: SendObserver;
  readonly #sender: RetryingSender;
  readonly #hooks: JobHooks;
  readonly #drainPlan: DrainPlan;
  readonly #limits: Required<InFlightLimits>;
  readonly #limiter: InFlightLimiter;
  readonly #window: SendWindow;
  readonly #tracker: SendTracker | undefined;
  #closing: Promise<DrainResult> | undefined;

  constructor(options: ProducerOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new RocketMQError(ErrorCode.CONFIG_INVALID, 'producer options must be an object');
    }
    rejectUnknownKeys(options, PRODUCER_KEYS, 'producer');
    const {
      logger,
      spool,
      transportFactory,
      spoolReserveMs,
      maxInFlight,
      maxInFlightBytes,
      maxConcurrentSends,
      track,
      ...configOptions
    } = options;
    if (track !== undefined && typeof track !== 'function') {
      throw new RocketMQError(ErrorCode.CONFIG_INVALID, 'producer option track must be a function');
    }
    this.#tracker = track;
    this.#limits = resolveLimits({ maxInFlight, maxInFlightBytes, maxConcurrentSends });
    this.#limiter = new InFlightLimiter(this.#limits);
    this.config = resolveConfig(configOptions);
    this.#window = new SendWindow(this.#limits.maxConcurrentSends, this.config.sendTimeoutMs);
    this.#logger = libraryLog(logger ?? getLogger());
    this.spool = resolveSpool(spool);
    this.#drainPlan = new DrainPlan({
      spool: this.spool,
      spoolReserveMs: resolveSpoolReserve(spoolReserveMs),
      sendTimeoutMs: this.config.sendTimeoutMs,
      stalledFor: () => this.#window.stalledFor(),
    });
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
    const spoolWriter = this.spool && new SpoolWriter(this.spool, this.#logger);
    this.#hooks = {
      success: (trace, result) => this.#observer.success(trace, result.messageId, result.attempts),
      failure: (trace, error) => this.#observer.failure(trace, error),
      dropped: (trace) => this.#observer.dropped(trace),
      spooled: (trace, error) => this.#observer.spooled(trace, error),
      persist: spoolWriter && ((message, error) => spoolWriter.persist(message, error)),
      invoke: (callback) => this.#invoke(callback),
    };
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
      // The trace header counts toward the proxy's property limits like any other property.
      assertPropertyLimits(prepared);
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
   *
   * Without a `deadline` / `timeoutMs` of the caller's, the send's `sendTimeoutMs` starts when it goes on
   * the wire, not while it waits its turn behind the send window; `drain` bounds it either way.
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
    const explicit = options?.deadline !== undefined || options?.timeoutMs !== undefined;
    // The caller's bound holds from now; without one, the in-flight wait is bounded by the send timeout.
    const waitDeadline = resolveDeadline(options, this.config.sendTimeoutMs);
    const job = new AsyncSendJob(prepared, this.#observer.start(prepared, 'async'), callback, this.#hooks);
    job.untrack = this.#track(job);
    const bytes = prepared.body.length;
    const wire = () =>
      this.#wire(job, bytes, explicit ? waitDeadline : undefined, this.config.retry.maxAttempts);
    if (this.#limiter.tryAcquire(bytes)) {
      wire();
      return undefined;
    }
    // Over the in-flight bound an async send waits for room, within its deadline.
    const leave = this.#limiter.enqueue(bytes, () => {
      clearTimeout(timer);
      if (job.open) wire();
      else this.#limiter.release(bytes);
    });
    const timer = setTimeout(
      () => {
        if (leave()) job.fail(this.#throttled(prepared.topic));
      },
      Math.max(0, waitDeadline - Date.now()),
    );
    job.leaveQueue = () => {
      clearTimeout(timer);
      leave();
    };
    return undefined;
  }

  /**
   * Oneway: returns at once with no result. One attempt, no retry, no spool; transport failures are
   * counted in `stats().oneway.failed` and logged at debug, never thrown. Its `sendTimeoutMs` starts
   * when it goes on the wire. It is dropped (and counted in `stats().oneway.dropped`) when the in-flight
   * bounds are full, when the broker answered no send for `sendTimeoutMs` while it waited its turn, and
   * when a drain's deadline comes first. Use it where an occasional lost message is acceptable (logs,
   * metrics). Invalid messages throw at once.
   */
  sendOneway(message: Message): void {
    const prepared = this.#prepare(message);
    const trace = this.#observer.start(prepared, 'oneway');
    const bytes = prepared.body.length;
    if (!this.#limiter.tryAcquire(bytes)) {
      // Over the in-flight bound a oneway send is dropped, never queued: it must not block its caller.
      this.#observer.dropped(trace);
      return;
    }
    const job = new OnewaySendJob(trace, this.#hooks);
    job.untrack = this.#track(job);
    // Deferred so that sendOneway itself returns before the client does any work for this message.
    void Promise.resolve().then(() => this.#wire(job, bytes, undefined, 1, prepared));
  }

  /**
   * Puts a send through the send window and onto the wire, and settles its job with the outcome. The
   * send's own timeout starts when its turn comes, unless the caller gave an absolute bound.
   */
  #wire(
    job: AsyncSendJob | OnewaySendJob,
    bytes: number,
    callerDeadline: number | undefined,
    maxAttempts: number,
    oneway?: PreparedMessage,
  ): void {
    const message = oneway ?? (job as AsyncSendJob).message;
    const { topic } = message;
    this.#window
      .run(
        () => {
          if (!job.open) return Promise.reject(NOT_SENT);
          job.wired = true;
          job.leaveQueue = () => undefined;
          const deadline = Math.min(
            callerDeadline ?? Number.POSITIVE_INFINITY,
            Date.now() + this.config.sendTimeoutMs,
          );
          return this.#sender.deliver(message, job.trace, deadline, maxAttempts);
        },
        {
          deadline: callerDeadline ?? Number.POSITIVE_INFINITY,
          expired: (reason) => {
            if (job instanceof OnewaySendJob) return ONEWAY_DROPPED;
            return reason === 'deadline'
              ? timeoutError(topic, 'send waiting for a send slot', false)
              : this.#stalled(topic);
          },
          queued: (leave) => {
            job.leaveQueue = () => {
              if (leave()) this.#limiter.release(bytes);
            };
          },
        },
      )
      .then(
        (result) => {
          this.#limiter.release(bytes);
          job.succeed(result);
        },
        (error: unknown) => {
          this.#limiter.release(bytes);
          if (error === NOT_SENT) return;
          if (error === ONEWAY_DROPPED) (job as OnewaySendJob).drop();
          else job.fail(error as RocketMQError);
        },
      );
  }

  /** Counts a send as pending for the producer and for the `track` hook, if there is one. */
  #track(pending: PendingSend): () => void {
    this.#pending.add(pending);
    const untrack = this.#tracker?.(pending);
    return () => {
      this.#pending.delete(pending);
      untrack?.();
    };
  }

  #stalled(topic: string): RocketMQError {
    return new RocketMQError(
      ErrorCode.UNAVAILABLE,
      `the broker answered no send for ${this.config.sendTimeoutMs} ms while this send to ${topic} waited its turn; it was never sent`,
      { topic, mayBeStored: false },
    );
  }

  #throttled(topic: string): RocketMQError {
    const { maxInFlight, maxInFlightBytes } = this.#limits;
    return new RocketMQError(
      ErrorCode.IN_FLIGHT_FULL,
      `too many sends in flight (bounds: ${maxInFlight} sends, ${maxInFlightBytes} bytes); no room came free before the send's deadline`,
      { topic },
    );
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
   * Waits for every async and oneway send in flight, up to the deadline (default `sendTimeoutMs`), and
   * returns by it. With a spool, open async sends are expired `spoolReserveMs` before the deadline, so
   * that their records are durable when the drain returns; without one, at the deadline. Expired async
   * sends fail with TIMEOUT, open oneway sends are dropped and counted. When this resolves, every async
   * send it waited for has had its callback, and every one reported spooled is on disk; those the spool
   * could not make durable in time are counted in `notPersisted` and reported not spooled. Sends started
   * while draining are waited for too.
   */
  async drain(options?: DrainOptions): Promise<DrainResult> {
    checkDeadlineOptions(options, 'drain');
    // The caller's bound, when given, is the bound: longer than the send timeout is fine for a drain.
    const bounded = options?.deadline !== undefined || options?.timeoutMs !== undefined;
    const deadline = resolveDeadline(options, bounded ? Number.POSITIVE_INFINITY : this.config.sendTimeoutMs);
    for (const flush of this.#drainHooks) flush();
    // One invocation's own sends, when given: another request served by the same instance keeps its own.
    const pending = options?.sends ?? this.#pending;
    const result = await drainPending(pending, this.#drainPlan.window(pending.size, deadline));
    if (result.expiredAsync + result.droppedOneway + result.notPersisted > 0) {
      this.#logger.warn({ message: 'drain deadline reached with sends still open', ...result });
    }
    return result;
  }

  /**
   * Registers `flush` to run synchronously at the start of every drain (and so of shutdown), before the
   * drain waits: for layers that hold records back and send them through this producer (a packer's open
   * pack). Returns a function that unregisters it.
   */
  onDrain(flush: () => void): () => void {
    this.#drainHooks.add(flush);
    return () => {
      this.#drainHooks.delete(flush);
    };
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
      // Records are checked again before they are resent, against this producer's body limit.
      { maxBodyBytes: this.config.maxBodyBytes, ...options },
    );
  }

  /**
   * Drains, then closes the client and clears every timer it owns, so a script that calls this exits on
   * its own; resolves by its bound (default `sendTimeoutMs`) whatever the broker does. A client that has
   * not closed by then (its goodbye to an unreachable broker) finishes closing in the background.
   * Resolves with what its drain reported (`notPersisted` included). Idempotent; later sends throw
   * PRODUCER_CLOSED.
   */
  shutdown(options?: DeadlineOptions): Promise<DrainResult> {
    this.#closing ??= (async () => {
      checkDeadlineOptions(options, 'shutdown');
      const deadline = resolveDeadline(options, this.config.sendTimeoutMs);
      const closeShare = Math.min(CLOSE_RESERVE_MS, Math.max(0, (deadline - Date.now()) / 4));
      const drained = await this.drain({ deadline: deadline - closeShare });
      const closed = this.#transport.close().catch((error: unknown) => {
        this.#logger.warn({ message: 'closing the RocketMQ client failed', error: error as Error });
      });
      const inTime = await settledBy(closed, deadline);
      this.#logger.info({
        message: inTime
          ? 'RocketMQ producer shut down'
          : 'RocketMQ producer shut down; the client goes on closing in the background',
        stats: this.stats(),
      });
      return drained;
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

/** The time a shutdown keeps back from its drain for closing the client. */
const CLOSE_RESERVE_MS = 50;
/** A send whose job ended while it waited its turn: nothing went out and nothing is left to report. */
const NOT_SENT = new Error('the send ended before its turn came');
/** A oneway send that stopped waiting for its turn: counted as dropped. */
const ONEWAY_DROPPED = new Error('oneway send dropped while waiting for its turn');

function isCallback(value: unknown): value is SendCallback {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as SendCallback).onSuccess === 'function' &&
    typeof (value as SendCallback).onException === 'function'
  );
}
