import type { ErrorCode } from '../errors.js';
import type { PreparedMessage } from '../message.js';

/** A message that could not be delivered, kept for later delivery. */
export interface SpoolRecord {
  /** Stable id of the record within its spool. */
  id: string;
  message: PreparedMessage;
  /** Why it was spooled: the last error's code and message. */
  error: { code: ErrorCode; message: string };
  /** Epoch ms of the first failure. */
  spooledAt: number;
  /** Redelivery attempts made so far. */
  redeliveryAttempts: number;
}

export interface RedeliverOptions {
  /** Stop starting new redeliveries after this epoch ms. @default no bound */
  deadline?: number;
  /** At most this many records per call. @default all */
  limit?: number;
  /**
   * Body limit records are checked against again before they are resent (the producer passes its
   * `maxBodyBytes`). @default 4 MiB
   */
  maxBodyBytes?: number;
}

export interface RedeliverReport {
  /** Records the broker acknowledged; removed from the spool. */
  delivered: number;
  /** Records whose resend failed with a retryable error; kept for the next call. */
  failed: number;
  /**
   * Records the broker refused for good (unknown topic, type mismatch, credentials, size): moved to
   * quarantine with the error, so they are kept but no longer resent on every call.
   */
  rejected: number;
  /**
   * Records moved aside and never resent: unreadable lines, and records that are no longer valid
   * messages (checked again as a new message would be, before any resend).
   */
  quarantined: number;
  /** Records left untouched because the deadline or the limit was reached. */
  remaining: number;
}

/** Sends one message and resolves only once the broker stored it. */
export type SpoolSender = (message: PreparedMessage) => Promise<unknown>;

/**
 * "Persist the message for later delivery". Implementations must make `append` atomic (a crash leaves
 * either a whole record or none) and resolve it only once the record is durable, and must remove a
 * record only after its resend was acknowledged. `append` may be called thousands of times in one tick
 * (a drain expiring a burst): group the writes rather than syncing each record on its own.
 */
export interface Spool {
  append(message: PreparedMessage, error: { code: ErrorCode; message: string }): Promise<string>;
  /**
   * {@link append} without a promise per record: `done` is called once, with no error once the record
   * is durable, or with the error its write failed with. Optional; a drain expiring thousands of sends
   * uses it when it is there, since a promise per record is a large part of their cost.
   */
  appendThen?(
    message: PreparedMessage,
    error: { code: ErrorCode; message: string },
    done: (error: unknown) => void,
  ): void;
  /**
   * How long making appended records durable has taken lately (ms): a drain keeps at least this much
   * time back for the spool. Optional; without it the producer's `spoolReserveMs` counts alone.
   */
  readonly flushEstimateMs?: number;
  /**
   * Makes every record appended so far durable now, synchronously; their appends are told (resolved, or
   * `appendThen`'s callback) on the next microtask, so that a drain finishes its write before any
   * callback runs. Optional; a drain calls it after expiring sends, when waiting for the event
   * loop could cost it its deadline.
   */
  flushSync?(): void;
  /** Readable records, oldest first, including those a redeliverer holds a claim on right now. */
  list(): Promise<SpoolRecord[]>;
  /**
   * Resends what the spool holds and removes what the broker acknowledged. Safe to call from any number
   * of processes (and, for a shared store, instances) at once: each segment is claimed by one
   * redeliverer at a time, and a crashed one's claim comes back once its lease expires.
   */
  redeliver(send: SpoolSender, options?: RedeliverOptions): Promise<RedeliverReport>;
}
