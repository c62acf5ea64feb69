import type { RocketMQError } from '../errors.js';
import type { PreparedMessage } from '../message.js';

/**
 * Micro-batching. The official client makes one gRPC call per message and is itself the throughput
 * ceiling; the protocol's SendMessage carries a list of messages of one topic, so several sends can
 * share one call.
 *
 * Off by default: a RocketMQ 5 proxy answers a batch with one entry, and consumers then see one shared
 * message id on every message of the batch. Consumers that deduplicate by business key (as ApsaraMQ
 * recommends) are unaffected; consumers that deduplicate by message id would drop all but one.
 */
export interface BatchingOptions {
  /** Messages per call at most. @default 64 */
  maxMessages?: number;
  /** Body bytes per call at most. @default 1 MiB */
  maxBytes?: number;
  /** How long the first message of a batch waits for company. @default 2 */
  lingerMs?: number;
}

export const BATCHING_DEFAULTS: Required<BatchingOptions> = {
  maxMessages: 64,
  maxBytes: 1024 * 1024,
  lingerMs: 2,
};

/** Messages whose deadlines are this close may share a call. */
const DEADLINE_TOLERANCE_MS = 100;

interface OpenBatch<R, T> {
  messages: PreparedMessage[];
  /** What the caller attached to each message (e.g. its trace), in the same order. */
  tags: T[];
  bytes: number;
  /** The earliest deadline of its messages: the call must not outlive any of them. */
  deadline: number;
  waiters: Array<{ resolve: (result: R) => void; reject: (error: RocketMQError) => void }>;
  timer: NodeJS.Timeout | undefined;
}

/** Sends one batch and resolves with one result per message, in order. */
export type BatchSender<R, T> = (messages: PreparedMessage[], tags: T[], deadline: number) => Promise<R[]>;

export class Batcher<R, T> {
  readonly #options: Required<BatchingOptions>;
  readonly #send: BatchSender<R, T>;
  readonly #open = new Map<string, OpenBatch<R, T>>();

  constructor(options: BatchingOptions, send: BatchSender<R, T>) {
    this.#options = { ...BATCHING_DEFAULTS, ...options };
    this.#send = send;
  }

  /** Only plain normal messages mix: FIFO groups and delivery times would change meaning in a batch. */
  accepts(message: PreparedMessage): boolean {
    return message.messageGroup === undefined && message.deliveryTimestamp === undefined;
  }

  /** Queues a message; settles with its own result once the call carrying it was answered. */
  add(message: PreparedMessage, deadline: number, tag: T): Promise<R> {
    let batch = this.#open.get(message.topic);
    // A batch is sent within its earliest deadline; a message whose own deadline differs much would
    // either cut the others short or be cut short itself, so it starts a batch of its own.
    const mismatched = batch !== undefined && Math.abs(batch.deadline - deadline) > DEADLINE_TOLERANCE_MS;
    if (batch && (mismatched || batch.bytes + message.body.length > this.#options.maxBytes)) {
      this.#flush(message.topic);
      batch = undefined;
    }
    if (!batch) {
      batch = { messages: [], tags: [], bytes: 0, deadline, waiters: [], timer: undefined };
      this.#open.set(message.topic, batch);
      const topic = message.topic;
      batch.timer = setTimeout(() => this.#flush(topic), this.#options.lingerMs);
    }
    batch.messages.push(message);
    batch.tags.push(tag);
    batch.bytes += message.body.length;
    batch.deadline = Math.min(batch.deadline, deadline);
    const current = batch;
    const settled = new Promise<R>((resolve, reject) => current.waiters.push({ resolve, reject }));
    if (batch.messages.length >= this.#options.maxMessages) this.#flush(message.topic);
    return settled;
  }

  /** Sends every open batch now (drain calls this so it never waits out a linger). */
  flushAll(): void {
    for (const topic of [...this.#open.keys()]) this.#flush(topic);
  }

  #flush(topic: string): void {
    const batch = this.#open.get(topic);
    if (!batch) return;
    this.#open.delete(topic);
    clearTimeout(batch.timer);
    this.#send(batch.messages, batch.tags, batch.deadline).then(
      (results) => {
        for (const [index, waiter] of batch.waiters.entries()) waiter.resolve(results[index] as R);
      },
      (error: RocketMQError) => {
        for (const waiter of batch.waiters) waiter.reject(error);
      },
    );
  }
}
