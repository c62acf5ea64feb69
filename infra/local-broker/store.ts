/** A message as the broker stored it; what `LocalBroker.messages()` returns. */
export interface StoredMessage {
  topic: string;
  /** The id the producer generated (RocketMQ echoes it, it does not mint one). */
  messageId: string;
  type: 'NORMAL' | 'FIFO' | 'DELAY' | 'TRANSACTION';
  tag?: string;
  keys: string[];
  properties: Record<string, string>;
  body: Buffer;
  messageGroup?: string;
  /** Epoch ms before which consumers do not see the message. */
  deliveryTimestamp?: number;
  bornTimestamp: number;
  storeTimestamp: number;
  /** Position in the topic's single queue (queue id 0), counting evicted messages too. */
  queueOffset: number;
}

export type MessageInput = Omit<StoredMessage, 'queueOffset' | 'storeTimestamp'> & { bornHost: string };

export interface StoredRecord {
  readonly message: StoredMessage;
  readonly bornHost: string;
  /** Set by RecallMessage: the record keeps its offset but is never delivered. */
  recalled: boolean;
}

/** One topic's queue: offsets only grow; the oldest records are dropped past the bound. */
export class TopicLog {
  #records: (StoredRecord | undefined)[] = [];
  #head = 0;
  #baseOffset = 0;

  get baseOffset(): number {
    return this.#baseOffset;
  }

  get nextOffset(): number {
    return this.#baseOffset + this.#records.length - this.#head;
  }

  get size(): number {
    return this.#records.length - this.#head;
  }

  get(offset: number): StoredRecord | undefined {
    if (offset < this.#baseOffset) return undefined;
    return this.#records[this.#head + offset - this.#baseOffset];
  }

  push(record: StoredRecord): void {
    this.#records.push(record);
  }

  evictOldest(): void {
    this.#records[this.#head] = undefined;
    this.#head++;
    this.#baseOffset++;
    // Compact in chunks: shifting a 100k-element array on every eviction would make sends O(n).
    if (this.#head >= 4096 && this.#head * 2 >= this.#records.length) {
      this.#records = this.#records.slice(this.#head);
      this.#head = 0;
    }
  }

  *records(): Generator<StoredRecord> {
    for (let i = this.#head; i < this.#records.length; i++) {
      const record = this.#records[i];
      if (record) yield record;
    }
  }
}

export interface RecallFailure {
  malformed: boolean;
  reason: string;
}

export const DEAD_LETTER_PREFIX = '%DLQ%';

/**
 * All stored messages, per topic, in memory. Transactional messages wait in a separate, bounded
 * half-message table until EndTransaction commits them into their topic.
 */
export class MessageStore {
  readonly #logs = new Map<string, TopicLog>();
  readonly #halfMessages = new Map<string, MessageInput>();
  readonly #watchers = new Map<string, Set<() => void>>();
  readonly #maxPerTopic: number;
  readonly #onStored: (message: StoredMessage) => void;
  #storedCount = 0;

  constructor(maxPerTopic: number, onStored: (message: StoredMessage) => void) {
    this.#maxPerTopic = maxPerTopic;
    this.#onStored = onStored;
  }

  get storedCount(): number {
    return this.#storedCount;
  }

  log(topic: string): TopicLog | undefined {
    return this.#logs.get(topic);
  }

  append(input: MessageInput, now = Date.now()): StoredMessage {
    let log = this.#logs.get(input.topic);
    if (!log) {
      log = new TopicLog();
      this.#logs.set(input.topic, log);
    }
    const { bornHost, ...fields } = input;
    const message: StoredMessage = { ...fields, storeTimestamp: now, queueOffset: log.nextOffset };
    log.push({ message, bornHost, recalled: false });
    if (log.size > this.#maxPerTopic) log.evictOldest();
    this.#storedCount++;
    this.#onStored(message);
    this.touch(input.topic);
    return message;
  }

  /** Holds a transactional message until it is committed or rolled back. */
  prepare(transactionId: string, input: MessageInput): void {
    this.#halfMessages.set(transactionId, input);
    // A real broker would ask the producer about old, unresolved transactions; here they are dropped.
    if (this.#halfMessages.size > this.#maxPerTopic) {
      const oldest = this.#halfMessages.keys().next().value;
      if (oldest !== undefined) this.#halfMessages.delete(oldest);
    }
  }

  /** Resolves a prepared transaction; `undefined` when no such transaction is pending. */
  endTransaction(
    transactionId: string,
    messageId: string,
    commit: boolean,
  ): StoredMessage | 'rolled-back' | undefined {
    const input = this.#halfMessages.get(transactionId);
    if (!input || (messageId && input.messageId !== messageId)) return undefined;
    this.#halfMessages.delete(transactionId);
    return commit ? this.append(input) : 'rolled-back';
  }

  /** Opaque handle a producer can pass to RecallMessage to cancel a not yet delivered delay message. */
  recallHandleOf(message: StoredMessage): string {
    return Buffer.from(`${message.topic} ${message.queueOffset} ${message.messageId}`).toString('base64url');
  }

  /** Cancels a delay message that is still waiting; returns it, or why it cannot be recalled. */
  recall(topic: string, handle: string, now = Date.now()): StoredMessage | RecallFailure {
    const [handleTopic, offset, messageId] = Buffer.from(handle, 'base64url').toString().split(' ');
    if (handleTopic !== topic || offset === undefined || messageId === undefined) {
      return { malformed: true, reason: 'invalid recall handle' };
    }
    const record = this.#logs.get(topic)?.get(Number(offset));
    if (!record || record.recalled || record.message.messageId !== messageId) {
      return { malformed: false, reason: 'message not found, already recalled or evicted' };
    }
    if ((record.message.deliveryTimestamp ?? 0) <= now) {
      return { malformed: false, reason: 'message already delivered' };
    }
    record.recalled = true;
    return record.message;
  }

  messages(topic: string): StoredMessage[] {
    const log = this.#logs.get(topic);
    if (!log) return [];
    const messages: StoredMessage[] = [];
    for (const record of log.records()) {
      if (!record.recalled) messages.push(record.message);
    }
    return messages;
  }

  countOf(topic: string): number {
    return this.#logs.get(topic)?.size ?? 0;
  }

  /** Calls `listener` whenever something a consumer of `topic` waits for may have changed. */
  watch(topic: string, listener: () => void): () => void {
    let listeners = this.#watchers.get(topic);
    if (!listeners) {
      listeners = new Set();
      this.#watchers.set(topic, listeners);
    }
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0) this.#watchers.delete(topic);
    };
  }

  touch(topic: string): void {
    const listeners = this.#watchers.get(topic);
    if (listeners) for (const listener of [...listeners]) listener();
  }
}
