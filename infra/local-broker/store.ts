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
  /** The topic queue the message was stored in (the broker picks it, as the proxy does). */
  queueId: number;
  /** Position in its queue, counting evicted messages too. */
  queueOffset: number;
}

export type MessageInput = Omit<StoredMessage, 'queueId' | 'queueOffset' | 'storeTimestamp'> & {
  bornHost: string;
};

export interface StoredRecord {
  readonly message: StoredMessage;
  readonly bornHost: string;
  /** Position in the topic's log (all queues, store order); consumer progress counts in it. */
  readonly position: number;
  /** Set by RecallMessage: the record keeps its offset but is never delivered. */
  recalled: boolean;
}

/**
 * One topic: its records in store order across all of its queues, addressed by position. Positions
 * only grow; the oldest records are dropped past the bound. Each queue numbers its own offsets.
 */
export class TopicLog {
  readonly queueCount: number;
  #records: (StoredRecord | undefined)[] = [];
  #head = 0;
  #baseOffset = 0;
  readonly #queueNext: number[];
  /** Position of the newest record of each queue, -1 while the queue is empty. */
  readonly #queueLast: number[];
  #roundRobin = 0;

  constructor(queueCount: number) {
    this.queueCount = queueCount;
    this.#queueNext = new Array<number>(queueCount).fill(0);
    this.#queueLast = new Array<number>(queueCount).fill(-1);
  }

  /**
   * The queue the next send goes to: round robin over the queues, as the proxy's write selector does,
   * or, for a single FIFO message, a fixed queue per message group.
   */
  selectQueue(messageGroup: string | undefined): number {
    if (messageGroup !== undefined) return stableHash(messageGroup) % this.queueCount;
    const queueId = this.#roundRobin % this.queueCount;
    this.#roundRobin = (this.#roundRobin + 1) % this.queueCount;
    return queueId;
  }

  /** Takes the next offset of `queueId`. */
  nextQueueOffset(queueId: number): number {
    const offset = this.#queueNext[queueId] ?? 0;
    this.#queueNext[queueId] = offset + 1;
    return offset;
  }

  /** Positions of the newest stored record of every queue that has one, oldest first. */
  lastPositions(): number[] {
    return this.#queueLast.filter((position) => position >= this.#baseOffset).sort((a, b) => a - b);
  }

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
    this.#queueLast[record.message.queueId] = record.position;
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

/** FNV-1a over the UTF-16 code units: any stable spread of groups over queues will do. */
function stableHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * All stored messages, per topic, in memory. Transactional messages wait in a separate, bounded
 * half-message table until EndTransaction commits them into their topic.
 */
export class MessageStore {
  readonly #logs = new Map<string, TopicLog>();
  readonly #halfMessages = new Map<string, { input: MessageInput; queueId: number }>();
  readonly #watchers = new Map<string, Set<() => void>>();
  readonly #maxPerTopic: number;
  readonly #queuesPerTopic: number;
  readonly #onStored: (message: StoredMessage) => void;
  #storedCount = 0;

  constructor(maxPerTopic: number, queuesPerTopic: number, onStored: (message: StoredMessage) => void) {
    this.#maxPerTopic = maxPerTopic;
    this.#queuesPerTopic = queuesPerTopic;
    this.#onStored = onStored;
  }

  get storedCount(): number {
    return this.#storedCount;
  }

  log(topic: string): TopicLog | undefined {
    return this.#logs.get(topic);
  }

  #logOf(topic: string): TopicLog {
    let log = this.#logs.get(topic);
    if (!log) {
      // A dead-letter topic has one queue, as the broker creates it.
      log = new TopicLog(topic.startsWith(DEAD_LETTER_PREFIX) ? 1 : this.#queuesPerTopic);
      this.#logs.set(topic, log);
    }
    return log;
  }

  /** The queue a send to `topic` goes to; every message of one SendMessage goes to the same one. */
  selectQueue(topic: string, messageGroup: string | undefined): number {
    return this.#logOf(topic).selectQueue(messageGroup);
  }

  /** Stores a message in `queueId` (default: the next queue of the round robin). */
  append(input: MessageInput, queueId?: number, now = Date.now()): StoredRecord {
    const log = this.#logOf(input.topic);
    const queue = queueId ?? log.selectQueue(undefined);
    const { bornHost, ...fields } = input;
    const message: StoredMessage = {
      ...fields,
      storeTimestamp: now,
      queueId: queue,
      queueOffset: log.nextQueueOffset(queue),
    };
    const record: StoredRecord = { message, bornHost, position: log.nextOffset, recalled: false };
    log.push(record);
    if (log.size > this.#maxPerTopic) log.evictOldest();
    this.#storedCount++;
    this.#onStored(message);
    this.touch(input.topic);
    return record;
  }

  /** Holds a transactional message until it is committed (into `queueId`) or rolled back. */
  prepare(transactionId: string, input: MessageInput, queueId: number): void {
    this.#halfMessages.set(transactionId, { input, queueId });
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
    const half = this.#halfMessages.get(transactionId);
    if (!half || (messageId && half.input.messageId !== messageId)) return undefined;
    this.#halfMessages.delete(transactionId);
    return commit ? this.append(half.input, half.queueId).message : 'rolled-back';
  }

  /** Opaque handle a producer can pass to RecallMessage to cancel a not yet delivered delay message. */
  recallHandleOf(record: StoredRecord): string {
    const { topic, messageId } = record.message;
    return Buffer.from(`${topic} ${record.position} ${messageId}`).toString('base64url');
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
