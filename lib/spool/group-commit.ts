/**
 * Group commit, shared by the spools: records handed over while a write is under way go out together
 * in the next one, as one segment, with at most {@link MAX_FLUSHERS} writes at a time. What a segment is
 * written to — a file, an object — is the spool's business, through `write`.
 */

import type { PreparedMessage } from '../message.js';
import { encodeRecord } from './segment.js';
import type { SpoolRecord } from './spool.js';

/** Why a message was spooled, as its record keeps it. */
type SpooledError = SpoolRecord['error'];

/** One write holds at most this much; a larger backlog goes out in several writes. */
export const MAX_FLUSH_BYTES = 4 * 1024 * 1024;
/**
 * Writes under way at once. Two let one write while the other waits for its sync; more would only queue
 * on the same disk or connection.
 */
const MAX_FLUSHERS = 2;

/** Told once a record's write is done: with its id, or with the error (already passed through `wrap`). */
export type AppendDone = (error: unknown, id?: string) => void;

interface Queued {
  line: string;
  /** The record's topic, for the error a failed write is reported with. */
  topic: string;
  done: AppendDone;
}

/** The error a failed write is reported with, to each record of the write. */
export type WriteError = (cause: unknown, topic: string) => unknown;

/** Writes one segment of `lines`; resolves with the segment's name once it is durable. */
export type SegmentWriter = (lines: string) => Promise<string>;

export class GroupCommit {
  readonly #write: SegmentWriter;
  readonly #wrap: WriteError;
  #queue: Queued[] = [];
  #flushers = 0;
  #scheduled = false;
  #estimateMs = 0;

  constructor(write: SegmentWriter, wrap: WriteError) {
    this.#write = write;
    this.#wrap = wrap;
  }

  /**
   * Queues the record of `message`; resolves with its id (`<segment>:<line>`) once it is durable, or rejects
   * with what the write threw, passed through the constructor's `wrap`.
   */
  append(message: PreparedMessage, error: SpooledError): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      this.enqueue(message, error, (failure, id) => (id === undefined ? reject(failure) : resolve(id)));
    });
  }

  /**
   * {@link append} without a promise: `done` is called once the record is durable or its write failed.
   * A drain expiring thousands of sends hands their records over this way, one call each.
   */
  enqueue(message: PreparedMessage, error: SpooledError, done: AppendDone): void {
    const line = encodeRecord({ message, error, spooledAt: Date.now(), redeliveryAttempts: 0 });
    this.#queue.push({ line, topic: message.topic, done });
    this.#schedule();
  }

  /**
   * Takes every queued record for a write the caller makes itself, now (a synchronous one); `written`
   * reports its outcome, with the segment's name or the error. The records are told on the next
   * microtask, not inside `written`: a drain finishes expiring and writing before any callback of
   * theirs runs.
   */
  takeAll():
    | { lines: string; written(outcome: { name: string; ms: number } | { error: unknown }): void }
    | undefined {
    if (this.#queue.length === 0) return undefined;
    const batch = this.#queue.splice(0);
    return {
      lines: batch.map((queued) => queued.line).join(''),
      written: (outcome) => {
        this.#measured(outcome);
        queueMicrotask(() => this.#tell(batch, outcome));
      },
    };
  }

  /** The slowest recent write, decaying: storage that was slow a moment ago is likely slow still. */
  get flushEstimateMs(): number {
    return this.#estimateMs;
  }

  #settle(batch: Queued[], outcome: { name: string; ms: number } | { error: unknown }): void {
    this.#measured(outcome);
    this.#tell(batch, outcome);
  }

  #measured(outcome: { name: string; ms: number } | { error: unknown }): void {
    if ('ms' in outcome) this.#estimateMs = Math.max(outcome.ms, this.#estimateMs * 0.8);
  }

  #tell(batch: Queued[], outcome: { name: string; ms: number } | { error: unknown }): void {
    if ('error' in outcome) {
      for (const queued of batch) queued.done(this.#wrap(outcome.error, queued.topic));
      return;
    }
    for (let index = 0; index < batch.length; index++) {
      (batch[index] as Queued).done(undefined, `${outcome.name}:${index}`);
    }
  }

  /**
   * Starts a flusher, on the next microtask so that every append of the current tick joins its write,
   * unless {@link MAX_FLUSHERS} already run.
   */
  #schedule(): void {
    if (this.#scheduled || this.#flushers >= MAX_FLUSHERS) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      if (this.#queue.length === 0) return;
      this.#flushers++;
      void this.#flushLoop().finally(() => {
        this.#flushers--;
        if (this.#queue.length > 0) this.#schedule();
      });
    });
  }

  /** One flusher: writes what is queued, one segment at a time, until the queue is empty. */
  async #flushLoop(): Promise<void> {
    while (this.#queue.length > 0) {
      let bytes = 0;
      let count = 0;
      while (count < this.#queue.length && (count === 0 || bytes < MAX_FLUSH_BYTES)) {
        bytes += (this.#queue[count] as Queued).line.length;
        count++;
      }
      const batch = this.#queue.splice(0, count);
      const started = performance.now();
      try {
        const name = await this.#write(batch.map((queued) => queued.line).join(''));
        this.#settle(batch, { name, ms: performance.now() - started });
      } catch (error) {
        this.#settle(batch, { error });
      }
    }
  }
}
