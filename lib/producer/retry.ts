import type { ResolvedConfig } from '../config.js';
import { ErrorCode, RocketMQError } from '../errors.js';
import type { LibraryLog } from '../log.js';
import type { PreparedMessage } from '../message.js';
import { classifyError, looksLikeStaleChannel } from './classify.js';
import { sleep, timeoutError, withDeadline } from './deadline.js';
import type { SendObserver, SendTrace } from './observe.js';
import { amendedError, failed, type SendOutcome } from './outcome.js';
import type { StatsRecorder } from './stats.js';
import type { Transport } from './transport.js';

/** The error with `mayBeStored` decided by the send as a whole, which one attempt cannot see. */
function withMayBeStored(error: RocketMQError, mayBeStored: boolean): RocketMQError {
  if (error.mayBeStored === mayBeStored) return error;
  const message = mayBeStored
    ? `${error.message} (an earlier attempt may have stored the message)`
    : error.message.replace('(the message may have been stored)', '(the request never reached the broker)');
  return amendedError(error, { message, mayBeStored });
}

/** Settles like `current`, unless one of `earlier` succeeds first. */
function firstAnswer<T>(current: Promise<T>, earlier: readonly Promise<T>[]): Promise<T> {
  if (earlier.length === 0) return current;
  return new Promise<T>((resolve, reject) => {
    current.then(resolve, reject);
    for (const attempt of earlier) attempt.then(resolve, () => undefined);
  });
}

/**
 * The retry policy around the transport: only retryable errors, exponential backoff with full jitter,
 * everything inside the caller's deadline, and one client replacement when the channel looks stale.
 */
export class RetryingSender {
  readonly #transport: Transport;
  readonly #config: ResolvedConfig;
  readonly #observer: SendObserver;
  readonly #stats: StatsRecorder;
  readonly #logger: LibraryLog;

  constructor(
    transport: Transport,
    config: ResolvedConfig,
    observer: SendObserver,
    stats: StatsRecorder,
    logger: LibraryLog,
  ) {
    this.#transport = transport;
    this.#config = config;
    this.#observer = observer;
    this.#stats = stats;
    this.#logger = logger;
  }

  /** Classifies a transport failure and does what it calls for: forget a topic, replace the client. */
  #recordFailure(
    thrown: unknown,
    topic: string,
    generation: number,
    answersBefore: number,
  ): { error: RocketMQError; replaced: boolean } {
    const error = classifyError(thrown, { topic });
    if (error.code === ErrorCode.TOPIC_NOT_FOUND) this.#transport.forgetTopic(topic);
    // Our own timeout means a dead channel only if nothing at all came back meanwhile; otherwise the
    // channel works and the call merely waited behind others.
    const ownTimeout = error.code === ErrorCode.TIMEOUT && error.status === undefined;
    const silent = !ownTimeout || this.#transport.answers === answersBefore;
    const replaced = looksLikeStaleChannel(error) && silent && this.#transport.reset(generation);
    if (replaced) {
      this.#stats.clientResets++;
      this.#logger.warn({
        message: 'replaced the RocketMQ client after a transport error',
        code: error.code,
        topic,
      });
    }
    return { error, replaced };
  }

  /**
   * Runs `call` until it succeeds, within `deadline` and in at most `maxAttempts` attempts, retrying
   * only retryable errors with exponential backoff and full jitter. After an error that looks like a
   * stale channel (the instance was frozen and its connection died silently) the client is replaced and
   * the next attempt starts at once. Resolves with the outcome; never rejects.
   */
  async #attempt<T>(
    topic: string,
    deadline: number,
    maxAttempts: number,
    call: () => Promise<T>,
    onRetry: (attempt: number, error: RocketMQError) => void,
  ): Promise<{ ok: true; value: T; attempts: number } | ReturnType<typeof failed>> {
    const { baseDelayMs, maxDelayMs } = this.#config.retry;
    let resetDone = false;
    // Attempts cut short by their slice of time may still be answered; the first answer of any wins.
    const cutShort: Promise<T>[] = [];
    // A send that waited its turn past its deadline never reaches the wire (and says nothing of the channel).
    if (Date.now() >= deadline) return failed(timeoutError(topic, 'send', false), 0);
    // One attempt that may have reached the broker makes the whole send ambiguous, whatever came after.
    let reachedBroker = false;
    for (let attempt = 1; ; attempt++) {
      const generation = this.#transport.generation;
      const answersBefore = this.#transport.answers;
      try {
        // The last attempt may use all the time left; earlier ones get a slice, so a silently dead
        // channel is noticed while there is still time to replace it and try again.
        const attemptDeadline =
          attempt >= maxAttempts ? deadline : Math.min(deadline, Date.now() + this.#config.attemptTimeoutMs);
        const current = call();
        try {
          return {
            ok: true,
            value: await withDeadline(firstAnswer(current, cutShort), attemptDeadline, topic),
            attempts: attempt,
          };
        } catch (thrown) {
          if (thrown instanceof RocketMQError && thrown.code === ErrorCode.TIMEOUT) cutShort.push(current);
          throw thrown;
        }
      } catch (thrown) {
        const recorded = this.#recordFailure(thrown, topic, generation, answersBefore);
        const { replaced } = recorded;
        // A broker that never answered anything gave no route, and without a route no send was written.
        reachedBroker ||= recorded.error.mayBeStored && this.#transport.answers > 0;
        const error = withMayBeStored(recorded.error, reachedBroker);
        if (!error.retryable || attempt >= maxAttempts || Date.now() >= deadline)
          return failed(error, attempt);
        onRetry(attempt, error);
        if (replaced && !resetDone) {
          resetDone = true;
          continue;
        }
        const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
        const floor = error.code === ErrorCode.TOO_MANY_REQUESTS ? baseDelayMs : 0;
        const delay = Math.max(floor, Math.random() * ceiling);
        if (Date.now() + delay >= deadline) return failed(error, attempt);
        await sleep(delay);
      }
    }
  }

  /**
   * Sends one message within `deadline`, in at most `maxAttempts` attempts, and resolves with the
   * outcome (never rejects). `onRetry` hears of each attempt that failed and is tried again.
   */
  async deliver(
    message: PreparedMessage,
    trace: SendTrace,
    deadline: number,
    maxAttempts: number,
    onRetry?: (attempt: number) => void,
  ): Promise<SendOutcome> {
    const outcome = await this.#attempt(
      message.topic,
      deadline,
      maxAttempts,
      // The whole send's deadline, not the attempt's: an attempt cut short may still be answered.
      () => this.#transport.send(message, { deadline }),
      (attempt, error) => {
        this.#observer.retry(trace, attempt, error);
        onRetry?.(attempt);
      },
    );
    if (!outcome.ok) return outcome;
    const { value, attempts } = outcome;
    return {
      ok: true,
      result: { messageId: value.messageId, topic: message.topic, offset: value.offset, attempts },
    };
  }
}
