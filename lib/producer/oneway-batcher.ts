import type { RocketMQError } from '../errors.js';
import type { PreparedMessage } from '../message.js';

/**
 * Micro-batching of oneway sends. The official client makes one gRPC call per message and is itself the
 * throughput ceiling; the protocol's SendMessage carries a list of messages of one topic. Oneway sends
 * owe nobody a per-message result, so several of them can share one call.
 *
 * Off by default: a RocketMQ 5 proxy answers a batch with one entry, and consumers then see one shared
 * message id on every message of the batch. Consumers that deduplicate by business key (as ApsaraMQ
 * recommends) are unaffected; consumers that deduplicate by message id would drop all but one.
 */
export interface OnewayBatchingOptions {
  /** Messages per call at most. @default 64 */
  maxMessages?: number;
  /** Body bytes per call at most. @default 1 MiB */
  maxBytes?: number;
  /** How long the first message of a batch waits for company. @default 2 */
  lingerMs?: number;
}

export const ONEWAY_BATCHING_DEFAULTS: Required<OnewayBatchingOptions> = {
  maxMessages: 64,
  maxBytes: 1024 * 1024,
  lingerMs: 2,
};

interface OpenBatch {
  messages: PreparedMessage[];
  bytes: number;
  waiters: Array<{ resolve: () => void; reject: (error: RocketMQError) => void }>;
  timer: NodeJS.Timeout | undefined;
}

export type BatchSender = (messages: PreparedMessage[]) => Promise<void>;

export class OnewayBatcher {
  readonly #options: Required<OnewayBatchingOptions>;
  readonly #send: BatchSender;
  readonly #open = new Map<string, OpenBatch>();

  constructor(options: OnewayBatchingOptions, send: BatchSender) {
    this.#options = { ...ONEWAY_BATCHING_DEFAULTS, ...options };
    this.#send = send;
  }

  /** Only plain normal messages mix: FIFO groups and delivery times would change meaning in a batch. */
  accepts(message: PreparedMessage): boolean {
    return message.messageGroup === undefined && message.deliveryTimestamp === undefined;
  }

  /** Queues a message; settles when the call carrying it was answered. */
  add(message: PreparedMessage): Promise<void> {
    let batch = this.#open.get(message.topic);
    if (batch && batch.bytes + message.body.length > this.#options.maxBytes) {
      this.#flush(message.topic);
      batch = undefined;
    }
    if (!batch) {
      batch = { messages: [], bytes: 0, waiters: [], timer: undefined };
      this.#open.set(message.topic, batch);
      const topic = message.topic;
      batch.timer = setTimeout(() => this.#flush(topic), this.#options.lingerMs);
    }
    batch.messages.push(message);
    batch.bytes += message.body.length;
    const settled = new Promise<void>((resolve, reject) => batch.waiters.push({ resolve, reject }));
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
    this.#send(batch.messages).then(
      () => {
        for (const waiter of batch.waiters) waiter.resolve();
      },
      (error: RocketMQError) => {
        for (const waiter of batch.waiters) waiter.reject(error);
      },
    );
  }
}
