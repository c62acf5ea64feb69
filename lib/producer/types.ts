import type { RocketMQError } from '../errors.js';
import type { DeadlineOptions } from './deadline.js';
import type { PendingSend } from './pending.js';

export interface SendResult {
  /** The id the broker stored the message under. */
  messageId: string;
  topic: string;
  /** Queue offset reported by the broker. */
  offset: number;
  /** Attempts it took, the first one included. */
  attempts: number;
}

/** What `onException` receives, shaped like ONS's OnExceptionContext. */
export interface SendFailure {
  topic: string;
  /** Set when the broker assigned an id before failing; usually undefined. */
  messageId: string | undefined;
  exception: RocketMQError;
  /** Whether the message was written to the spool for later delivery. */
  spooled: boolean;
}

export interface SendCallback {
  onSuccess(result: SendResult): void;
  onException(failure: SendFailure): void;
}

export type SendOptions = DeadlineOptions;

export interface DrainOptions extends DeadlineOptions {
  /**
   * Only these sends (e.g. one invocation's, kept by the producer's `track` hook: a live set, which a
   * send leaves when it settles) instead of all
   * the producer's: with FC instance concurrency, one request's drain must not wait for or expire
   * another's sends.
   */
  sends?: ReadonlySet<PendingSend>;
}

export interface DrainResult {
  /** Sends that settled on their own while draining. */
  settled: number;
  /** Async sends failed with TIMEOUT at the deadline (and spooled if a spool is configured). */
  expiredAsync: number;
  /** Oneway sends abandoned at the deadline. */
  droppedOneway: number;
  /**
   * Failed async sends whose spool write was not durable by the deadline: reported with
   * `spooled: false`, so the caller knows they are not safe. (The write may still land later; a record
   * that does is redelivered, at worst once more than needed.)
   */
  notPersisted: number;
}
