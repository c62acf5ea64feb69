/**
 * An embedded RocketMQ 5 broker: it serves the `apache.rocketmq.v2.MessagingService` gRPC protocol
 * well enough for the unmodified official `rocketmq-client-nodejs` producer and consumers, keeps
 * messages in memory and offers fault hooks for tests. See README.md beside this file.
 */

import type { NewGroupStart } from './consumer-groups.js';
import type { BrokerFaults } from './faults.js';
import type { ProxyMode } from './send.js';
import type { StoredMessage } from './store.js';
import type { TopicMessageType } from './topics.js';

export { authorizationHeader, signDateTime } from './auth.js';
export { startLocalBroker } from './broker.js';
export { DEAD_LETTER_PREFIX } from './store.js';
export { DEFAULT_TOPICS_FILE, loadTopics, validateTopics } from './topics.js';
export type { BrokerFaults, NewGroupStart, ProxyMode, StoredMessage, TopicMessageType };

export interface LocalBrokerOptions {
  /** @default 0 (a free port) */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** A `{ topic: type }` map, or the path of a JSON file holding one. @default infra/local-broker/topics.json */
  topics?: Record<string, TopicMessageType> | string;
  /** accessKey → secret. When set, every call must carry a valid `MQv2-HMAC-SHA1` signature (else 40100). */
  credentials?: Record<string, string>;
  /** Messages kept per topic; past it the oldest are evicted. @default 100_000 */
  maxMessagesPerTopic?: number;
  /** Larger bodies are rejected with 41301; also sent to clients, which then check it locally. @default 4 MiB */
  maxBodySize?: number;
  /** Sent to producers as `publishing.validate_message_type`, like the proxy. @default true */
  validateMessageType?: boolean;
  /** Receives one line per stored message (topic, type, tag, keys, message id, size). @default none */
  log?: (line: string) => void;
  /**
   * Which proxy deployment a SendMessage with several messages is answered like. Either way every
   * message of it is stored with the FIRST message's tag, keys, message id and user properties, as
   * the proxy does. `cluster`: one entry, all requested ids joined by commas, the first message's
   * queue offset. `local`: one entry, an id the proxy makes up (no stored message has it), offset 0.
   * @default 'cluster'
   */
  proxyMode?: ProxyMode;
  /** Queues of every topic (dead-letter topics have one); sends are spread over them. @default 8 */
  queuesPerTopic?: number;
  /**
   * Where a consumer group starts on its first receive from a topic: `last`, like the proxy, from the
   * newest message of each queue (so at most one message per queue stored before); `oldest`, from the
   * oldest stored message, for tests that read back what they sent with a fresh group.
   * @default 'last'
   */
  newGroupStart?: NewGroupStart;
  /** Store empty bodies instead of answering 41302, as proxies before 5.3.2 did in local mode. @default false */
  acceptEmptyBody?: boolean;
}

export interface BrokerStats {
  sendMessageCalls: number;
  /** Messages stored since start, including ones evicted since. */
  storedMessages: number;
  /** SendMessage calls answered with a non-OK status or a gRPC error. */
  rejectedSends: number;
  /** Calls per RPC name, e.g. `{ QueryRoute: 2, SendMessage: 10, Telemetry: 1 }`. */
  rpcCalls: Record<string, number>;
}

export interface LocalBroker {
  /** `host:port`, ready to pass to a client as `endpoints`. */
  readonly endpoint: string;
  readonly host: string;
  readonly port: number;
  readonly topics: ReadonlyMap<string, TopicMessageType>;
  readonly faults: BrokerFaults;
  /**
   * Snapshot of the stored messages of a topic, oldest first. Dead-lettered messages of a consumer
   * group are under `%DLQ%<group>`.
   */
  messages(topic: string): StoredMessage[];
  /** Resolves once at least `count` messages are stored in `topic`. @default timeoutMs 5000 */
  waitForMessages(topic: string, count: number, timeoutMs?: number): Promise<StoredMessage[]>;
  stats(): BrokerStats;
  /** Closes the server and every connection and clears every timer. */
  stop(): Promise<void>;
  /** Drops every connection and listens again on the same port; stored messages are kept. */
  restart(): Promise<void>;
}
