import type { Credentials, ResolvedConfig } from '../config.js';
import { ErrorCode, RocketMQError } from '../errors.js';
import { type Message, type PreparedMessage, validateMessage, withProperties } from '../message.js';
import type { RedeliverOptions, RedeliverReport, Spool } from '../spool/spool.js';
import { currentTraceparent } from '../trace-context.js';
import { asyncDeadline, checkDeadlineOptions, type DeadlineOptions, resolveDeadline } from './deadline.js';
import { closeTransport, sameCredentials, warmUpTransport } from './lifecycle.js';
import { type ProducerOptions, resolveProducerOptions } from './options.js';
import { outcomeError } from './outcome.js';
import { SendPipeline } from './pipeline.js';
import { asyncArguments } from './send-async.js';
import type { ProducerStats } from './stats.js';
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
 * serverless invocation leaves behind. Each mode is a short policy over one {@link SendPipeline}.
 */
export class Producer {
  readonly config: ResolvedConfig;
  readonly spool: Spool | undefined;
  readonly #pipeline: SendPipeline;
  readonly #drainHooks = new Set<() => void>();
  #closing: Promise<DrainResult> | undefined;

  constructor(options: ProducerOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new RocketMQError(ErrorCode.CONFIG_INVALID, 'producer options must be an object');
    }
    const resolved = resolveProducerOptions(options);
    this.config = resolved.config;
    this.#pipeline = new SendPipeline(resolved);
    this.spool = this.#pipeline.spool;
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
    if (traceparent === undefined || prepared.properties.traceparent !== undefined) return prepared;
    // The trace header counts toward the proxy's property limits like any other property.
    return withProperties(prepared, { ...prepared.properties, traceparent });
  }

  /**
   * Sync: resolves once the broker stored the message, rejects with a {@link RocketMQError} otherwise.
   * The whole send, retries included, is bounded by `sendTimeoutMs` and by the caller's deadline.
   * Failures are the caller's to handle ("retry or persist the message for later delivery").
   */
  async send(message: Message, options?: SendOptions): Promise<SendResult> {
    checkDeadlineOptions(options, 'send');
    const prepared = this.#prepare(message);
    const outcome = await this.#pipeline.deliver(
      prepared,
      resolveDeadline(options, this.config.sendTimeoutMs),
    );
    if (outcome.ok) return outcome.result;
    throw outcomeError(outcome);
  }

  /**
   * Async: returns at once. With a callback, exactly one of `onSuccess` / `onException` runs, exactly
   * once and never before `sendAsync` returns; without one, a promise settles the same way, and its
   * error says in `spooled` whether the message went to the spool. A failed send is written to the
   * spool (when configured) before `onException` runs. Invalid messages throw at once (callback form) or
   * reject (promise form); nothing is sent for them. Over the in-flight bounds it waits for room within
   * its deadline, and fails with IN_FLIGHT_FULL when none came free.
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
    const { callback, options, promise } = asyncArguments(callbackOrOptions, maybeOptions);
    try {
      checkDeadlineOptions(options, 'sendAsync');
      const prepared = this.#prepare(message);
      this.#pipeline.start(prepared, 'async', asyncDeadline(options, this.config.sendTimeoutMs), callback);
    } catch (error) {
      if (!promise) throw error;
      promise.reject(error);
    }
    return promise?.settled;
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
    this.#pipeline.start(this.#prepare(message), 'oneway', Number.POSITIVE_INFINITY);
  }

  /**
   * Waits for every async and oneway send in flight (or only `options.sends`), up to the deadline
   * (default `sendTimeoutMs`), and returns by it. With a spool, open async sends are expired
   * `spoolReserveMs` before the deadline, so that their records are durable when the drain returns;
   * without one, at the deadline. Expired async sends fail with TIMEOUT, open oneway sends are dropped
   * and counted. When this resolves, every async send it waited for has had its callback, and every one
   * reported spooled is on disk; those the spool could not make durable in time are counted in
   * `notPersisted` and reported not spooled. Sends started while draining are waited for too.
   */
  async drain(options?: DrainOptions): Promise<DrainResult> {
    checkDeadlineOptions(options, 'drain');
    // The caller's bound, when given, is the bound: longer than the send timeout is fine for a drain.
    const bounded = options?.deadline !== undefined || options?.timeoutMs !== undefined;
    const deadline = resolveDeadline(options, bounded ? Number.POSITIVE_INFINITY : this.config.sendTimeoutMs);
    for (const flush of this.#drainHooks) flush();
    return this.#pipeline.drain(deadline, options?.sends);
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
  redeliverSpool(options?: RedeliverOptions): Promise<RedeliverReport> {
    return this.#pipeline.redeliver(options);
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
      await closeTransport(this.#pipeline.transport, this.#pipeline.logger, deadline, () => this.stats());
      return drained;
    })();
    return this.#closing;
  }

  /**
   * Starts the client and looks up the routes of `topics` ahead of the first send (for FC initializers
   * and Lambda init code, whose time is not billed to a request). Bounded by `timeoutMs` (default
   * `sendTimeoutMs`); failures are logged and returned, never thrown: the first send retries them.
   */
  warmUp(topics: readonly string[] = [], options?: DeadlineOptions): Promise<RocketMQError | undefined> {
    const deadline = resolveDeadline(options, this.config.sendTimeoutMs);
    return warmUpTransport(this.#pipeline.transport, this.#pipeline.logger, topics, deadline);
  }

  /**
   * Switches to new credentials (e.g. rotated STS credentials from the FC context). The client is
   * replaced only when they differ; sends in flight finish on the old one.
   */
  updateCredentials(credentials: Credentials | undefined): boolean {
    if (sameCredentials(this.config.credentials, credentials)) return false;
    this.config.credentials = credentials;
    const transport = this.#pipeline.transport;
    transport.reset(transport.generation, true);
    return true;
  }

  stats(): ProducerStats {
    return this.#pipeline.stats();
  }
}

/** The time a shutdown keeps back from its drain for closing the client. */
const CLOSE_RESERVE_MS = 50;
