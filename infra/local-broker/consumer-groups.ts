import { randomBytes } from 'node:crypto';
import { DEAD_LETTER_PREFIX, type MessageStore, type StoredRecord, type TopicLog } from './store.js';

/**
 * After this many deliveries a message that is still not acked goes to the group's dead-letter
 * topic, like the broker's default of 16 retries.
 */
export const MAX_DELIVERY_ATTEMPTS = 17;

export interface Delivery {
  readonly record: StoredRecord;
  readonly receiptHandle: string;
  readonly attempt: number;
  readonly invisibleMs: number;
}

export interface ReceiveResult {
  deliveries: Delivery[];
  /** Earliest time a skipped message becomes deliverable (delay due, invisibility over). */
  retryAt: number;
}

interface InFlight {
  handle: string;
  visibleAt: number;
  attempt: number;
}

/**
 * Where a consumer group starts reading a topic on its first receive. `last`: like the proxy, which pops
 * with `ConsumeInitMode.MAX` — each queue from its newest message, so a new group sees at most one
 * message per queue that was stored before. `oldest`: from the oldest stored message.
 */
export type NewGroupStart = 'last' | 'oldest';

/** What one consumer group has done with one topic. Offsets here are log positions. */
interface Progress {
  /** Every position below it is acked, filtered out or dead-lettered, unless in `before`. */
  cursor: number;
  /** Settled positions at or above the cursor. */
  settled: Set<number>;
  /** Unsettled positions below the cursor: the newest message of each queue at a `last` start. */
  before: Set<number>;
  inFlight: Map<number, InFlight>;
}

interface HandleOwner {
  group: string;
  topic: string;
  offset: number;
}

/**
 * Pop-style consumption, the model of RocketMQ 5 simple and push consumers: a received message is
 * invisible to its group until it is acked or its invisible duration ends, then it is delivered again
 * with the next attempt number. A group starts on each topic where `newGroupStart` says. A receive
 * takes the oldest deliverable messages across all queues of the topic. On FIFO messages a message
 * group is blocked while one of its messages is in flight.
 */
export class ConsumerGroups {
  readonly #store: MessageStore;
  readonly #start: NewGroupStart;
  readonly #progress = new Map<string, Progress>();
  readonly #handles = new Map<string, HandleOwner>();
  readonly #handlePrefix = randomBytes(6).toString('base64url');
  #handleSequence = 0;

  constructor(store: MessageStore, start: NewGroupStart) {
    this.#store = store;
    this.#start = start;
  }

  receive(
    group: string,
    topic: string,
    accepts: (tag: string | undefined) => boolean,
    batchSize: number,
    invisibleMs: number,
    now = Date.now(),
  ): ReceiveResult {
    const result: ReceiveResult = { deliveries: [], retryAt: Number.POSITIVE_INFINITY };
    const log = this.#store.log(topic);
    if (!log) return result;
    const progress = this.#progressOf(group, topic, log);
    const blockedGroups = new Set<string>();
    for (const offset of positionsOf(progress, log.nextOffset)) {
      if (result.deliveries.length >= batchSize) break;
      const record = log.get(offset);
      if (!record || progress.settled.has(offset)) continue;
      if (record.recalled) {
        this.#settle(progress, offset);
        continue;
      }
      const { message } = record;
      const fifoGroup = message.type === 'FIFO' ? message.messageGroup : undefined;
      if (fifoGroup !== undefined && blockedGroups.has(fifoGroup)) continue;
      const inFlight = progress.inFlight.get(offset);
      const waitUntil = Math.max(inFlight?.visibleAt ?? 0, message.deliveryTimestamp ?? 0);
      if (waitUntil > now) {
        result.retryAt = Math.min(result.retryAt, waitUntil);
        if (fifoGroup !== undefined) blockedGroups.add(fifoGroup);
        continue;
      }
      if (!accepts(message.tag)) {
        this.#settle(progress, offset);
        continue;
      }
      if (inFlight && inFlight.attempt >= MAX_DELIVERY_ATTEMPTS) {
        this.#deadLetter(group, progress, offset, record);
        continue;
      }
      const handle = this.#newHandle({ group, topic, offset });
      if (inFlight) this.#handles.delete(inFlight.handle);
      const attempt = (inFlight?.attempt ?? 0) + 1;
      progress.inFlight.set(offset, { handle, visibleAt: now + invisibleMs, attempt });
      result.deliveries.push({ record, receiptHandle: handle, attempt, invisibleMs });
      if (fifoGroup !== undefined) blockedGroups.add(fifoGroup);
    }
    this.#advance(progress);
    return result;
  }

  /** Acks a delivery; false when the handle is unknown, superseded or expired (40013 at the proxy). */
  ack(group: string, topic: string, handle: string, now = Date.now()): boolean {
    const owned = this.#owned(group, topic, handle, now);
    if (!owned) return false;
    this.#settle(owned.progress, owned.offset);
    this.#advance(owned.progress);
    this.#store.touch(topic);
    return true;
  }

  /** Moves the moment the message is delivered again; returns the new receipt handle. */
  changeInvisibleDuration(
    group: string,
    topic: string,
    handle: string,
    invisibleMs: number,
    now = Date.now(),
  ): string | undefined {
    const owned = this.#owned(group, topic, handle, now);
    if (!owned) return undefined;
    this.#handles.delete(handle);
    const renewed = this.#newHandle({ group, topic, offset: owned.offset });
    owned.inFlight.handle = renewed;
    owned.inFlight.visibleAt = now + invisibleMs;
    this.#store.touch(topic);
    return renewed;
  }

  /** ForwardMessageToDeadLetterQueue: the push consumer gave up on the message. */
  deadLetter(group: string, topic: string, handle: string, now = Date.now()): boolean {
    const owned = this.#owned(group, topic, handle, now);
    const record = owned && this.#store.log(topic)?.get(owned.offset);
    if (!owned || !record) return false;
    this.#deadLetter(group, owned.progress, owned.offset, record);
    this.#advance(owned.progress);
    this.#store.touch(topic);
    return true;
  }

  #progressOf(group: string, topic: string, log: TopicLog): Progress {
    const key = `${group}\n${topic}`;
    let progress = this.#progress.get(key);
    if (!progress) {
      progress =
        this.#start === 'oldest'
          ? { cursor: log.baseOffset, settled: new Set(), before: new Set(), inFlight: new Map() }
          : {
              cursor: log.nextOffset,
              settled: new Set(),
              before: new Set(log.lastPositions()),
              inFlight: new Map(),
            };
      this.#progress.set(key, progress);
    }
    if (progress.cursor < log.baseOffset) this.#forgetEvicted(progress, log.baseOffset);
    for (const offset of progress.before) {
      if (offset < log.baseOffset) progress.before.delete(offset);
    }
    return progress;
  }

  #forgetEvicted(progress: Progress, baseOffset: number): void {
    for (const [offset, inFlight] of progress.inFlight) {
      if (offset >= baseOffset) continue;
      this.#handles.delete(inFlight.handle);
      progress.inFlight.delete(offset);
    }
    for (const offset of progress.settled) {
      if (offset < baseOffset) progress.settled.delete(offset);
    }
    progress.cursor = baseOffset;
  }

  #owned(group: string, topic: string, handle: string, now: number) {
    const owner = this.#handles.get(handle);
    if (!owner || owner.group !== group || owner.topic !== topic) return undefined;
    const progress = this.#progress.get(`${group}\n${topic}`);
    const inFlight = progress?.inFlight.get(owner.offset);
    // Like the proxy, a handle stops being valid once its invisible duration is over.
    if (!progress || !inFlight || inFlight.handle !== handle || inFlight.visibleAt <= now) return undefined;
    return { progress, inFlight, offset: owner.offset };
  }

  #newHandle(owner: HandleOwner): string {
    this.#handleSequence++;
    const handle = `${this.#handlePrefix}.${this.#handleSequence.toString(36)}`;
    this.#handles.set(handle, owner);
    return handle;
  }

  #settle(progress: Progress, offset: number): void {
    const inFlight = progress.inFlight.get(offset);
    if (inFlight) {
      this.#handles.delete(inFlight.handle);
      progress.inFlight.delete(offset);
    }
    if (!progress.before.delete(offset)) progress.settled.add(offset);
  }

  #deadLetter(group: string, progress: Progress, offset: number, record: StoredRecord): void {
    this.#settle(progress, offset);
    const { queueId: _queue, queueOffset: _offset, storeTimestamp: _stored, ...message } = record.message;
    this.#store.append({ ...message, topic: `${DEAD_LETTER_PREFIX}${group}`, bornHost: record.bornHost });
  }

  #advance(progress: Progress): void {
    while (progress.settled.delete(progress.cursor)) progress.cursor++;
  }
}

/** The positions a receive looks at, oldest first: those left over from the start, then from the cursor. */
function* positionsOf(progress: Progress, end: number): Generator<number> {
  if (progress.before.size > 0) yield* [...progress.before].sort((a, b) => a - b);
  for (let offset = progress.cursor; offset < end; offset++) yield offset;
}
