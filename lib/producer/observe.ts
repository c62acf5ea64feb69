import { channels, nextSendId } from '../diagnostics.js';
import type { RocketMQError } from '../errors.js';
import type { LibraryLog } from '../log.js';
import { type PreparedMessage, withProperties } from '../message.js';
import type { SendMode, StatsRecorder } from './stats.js';

/** One send as the observer tracks it from start to outcome. */
export interface SendTrace {
  readonly sendId: number;
  readonly topic: string;
  readonly mode: SendMode;
  readonly keys: readonly string[];
  readonly started: number;
}

/** Powertools' numeric level of DEBUG; lower numbers are chattier. */
const DEBUG_LEVEL = 8;
const LEVEL_RECHECK_MS = 1000;

function messageType(message: PreparedMessage): 'NORMAL' | 'FIFO' | 'DELAY' {
  if (message.messageGroup !== undefined) return 'FIFO';
  if (message.deliveryTimestamp !== undefined) return 'DELAY';
  return 'NORMAL';
}

/**
 * Everything a send tells the outside: diagnostics channel events, debug log lines carrying the
 * message id and keys, and the latency samples behind `stats()`. Payloads are built only when someone
 * listens, so an unobserved send costs a counter and a clock read.
 */
export class SendObserver {
  readonly #logger: LibraryLog;
  readonly #stats: StatsRecorder;

  constructor(logger: LibraryLog, stats: StatsRecorder) {
    this.#logger = logger;
    this.#stats = stats;
  }

  #debug = { enabled: false, checkedAt: Number.NEGATIVE_INFINITY };

  /**
   * Powertools works the level out from the environment on every read, which showed in send profiles;
   * reading it at most once a second still follows a `setLogLevel` promptly.
   */
  #debugging(): boolean {
    const now = performance.now();
    if (now - this.#debug.checkedAt > LEVEL_RECHECK_MS) {
      this.#debug = { enabled: this.#logger.level <= DEBUG_LEVEL, checkedAt: now };
    }
    return this.#debug.enabled;
  }

  /**
   * Opens the trace of a send. Start subscribers get a copy of the message's properties to add trace
   * context to; what they add goes out with the send, in a new prepared message.
   */
  start(message: PreparedMessage, mode: SendMode): { trace: SendTrace; message: PreparedMessage } {
    const trace: SendTrace = {
      sendId: nextSendId(),
      topic: message.topic,
      mode,
      keys: message.keys,
      started: performance.now(),
    };
    if (channels.start.hasSubscribers) {
      const properties: Record<string, string> = Object.assign(Object.create(null), message.properties);
      channels.start.publish({
        sendId: trace.sendId,
        topic: trace.topic,
        mode,
        keys: trace.keys,
        tag: message.tag,
        messageType: messageType(message),
        properties,
      });
      return { trace, message: withProperties(message, properties) };
    }
    return { trace, message };
  }

  retry(trace: SendTrace, attempt: number, error: RocketMQError): void {
    this.#stats.modes[trace.mode].retried++;
    if (channels.retry.hasSubscribers) channels.retry.publish({ ...base(trace), attempt, error });
    if (this.#debugging()) {
      this.#logger.debug({
        message: 'retrying send',
        ...base(trace),
        attempt,
        code: error.code,
        reason: error.message,
      });
    }
  }

  success(trace: SendTrace, messageId: string | undefined, attempts: number): void {
    const durationMs = performance.now() - trace.started;
    this.#stats.modes[trace.mode].sent++;
    if (trace.mode !== 'oneway') this.#stats.recordLatency(durationMs);
    if (channels.success.hasSubscribers) {
      channels.success.publish({ ...base(trace), messageId, attempts, durationMs });
    }
    if (this.#debugging())
      this.#logger.debug({ message: 'sent', ...base(trace), messageId, attempts, durationMs });
  }

  failure(trace: SendTrace, error: RocketMQError, attempts: number): void {
    const durationMs = performance.now() - trace.started;
    this.#stats.modes[trace.mode].failed++;
    if (channels.error.hasSubscribers)
      channels.error.publish({ ...base(trace), attempts, durationMs, error });
    if (this.#debugging()) {
      this.#logger.debug({
        message: 'send failed',
        ...base(trace),
        attempts,
        code: error.code,
        reason: error.message,
      });
    }
  }

  spooled(trace: SendTrace, error: RocketMQError): void {
    this.#stats.modes[trace.mode].spooled++;
    if (channels.spool.hasSubscribers) channels.spool.publish({ ...base(trace), error });
  }

  dropped(trace: SendTrace): void {
    this.#stats.modes[trace.mode].dropped++;
    if (channels.drop.hasSubscribers) channels.drop.publish(base(trace));
  }
}

function base(trace: SendTrace) {
  return { sendId: trace.sendId, topic: trace.topic, mode: trace.mode, keys: trace.keys };
}
