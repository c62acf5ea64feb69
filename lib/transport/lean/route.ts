import { randomInt } from 'node:crypto';
import siphash24 from 'siphash24';
import { type MessageQueueObject, Permission } from './proto.js';

/**
 * Queue selection of the official client: the writable queues of the route whose id is 0 (the client
 * compares queue ids with the master broker id, so it keeps one queue per broker; the proxy picks the
 * real queue itself), round robin from a random start; a FIFO message goes to the queue its message
 * group hashes to (SipHash-2-4, the hash the Java and Node clients use).
 */

const MASTER_BROKER_ID = 0;
/** SipHash key of the official clients: bytes 0x00…0x0f. */
const SIP_HASH_KEY = Uint8Array.from({ length: 16 }, (_, index) => index);

export interface PublishingQueue {
  readonly queue: MessageQueueObject;
  /** `host:port` of the broker serving the queue. */
  readonly authority: string;
  readonly acceptMessageTypes: readonly number[];
}

function authorityOf(queue: MessageQueueObject): string | undefined {
  const address = queue.broker?.endpoints?.addresses?.[0];
  if (!address?.host) return undefined;
  const host =
    address.host.includes(':') && !address.host.startsWith('[') ? `[${address.host}]` : address.host;
  return `${host}:${address.port ?? 80}`;
}

export class PublishingRoute {
  readonly #queues: PublishingQueue[];
  #index: number;

  constructor(queues: readonly MessageQueueObject[], index?: number) {
    this.#queues = [];
    for (const queue of queues) {
      const permission = queue.permission ?? 0;
      const writable = permission === Permission.WRITE || permission === Permission.READ_WRITE;
      const authority = authorityOf(queue);
      if ((queue.id ?? 0) === MASTER_BROKER_ID && writable && authority) {
        this.#queues.push({ queue, authority, acceptMessageTypes: queue.acceptMessageTypes ?? [] });
      }
    }
    if (this.#queues.length === 0) {
      throw new Error(`No writable message queue found for topic ${queues[0]?.topic?.name ?? ''}`);
    }
    this.#index = index ?? randomInt(this.#queues.length);
  }

  /** A new route from fresh queues that keeps the round-robin position. */
  update(queues: readonly MessageQueueObject[]): PublishingRoute {
    return new PublishingRoute(queues, this.#index);
  }

  get size(): number {
    return this.#queues.length;
  }

  next(): PublishingQueue {
    if (this.#index >= this.#queues.length) this.#index = 0;
    return this.#queues[this.#index++] as PublishingQueue;
  }

  byMessageGroup(messageGroup: string): PublishingQueue {
    const hash = Buffer.from(siphash24(Buffer.from(messageGroup), SIP_HASH_KEY)).readBigUInt64BE();
    return this.#queues[Number(hash % BigInt(this.#queues.length))] as PublishingQueue;
  }
}
