import type { ResolvedConfig } from '../../config.js';
import type { ClientLogger } from '../../log.js';
import type { PreparedMessage } from '../../message.js';
import type { SendAttemptOptions, Transport, TransportReceipt } from '../types.js';
import { type AccessPoint, parseAccessPoint } from './access-point.js';
import { GrpcChannel } from './channel.js';
import { createMessageId } from './message-id.js';
import { RequestMetadata } from './metadata.js';
import { QueryRouteRequestType, type QueryRouteResponseObject, QueryRouteResponseType } from './proto.js';
import type { PublishingQueue } from './route.js';
import { RouteTable } from './route-table.js';
import { decodeSendAnswer, encodeSendRequest, queueFor } from './send-message.js';
import { checkStatus, notSent, TOPIC_NOT_FOUND } from './status.js';

/**
 * A RocketMQ 5 producer transport on `node:http2`: QueryRoute and SendMessage, nothing else.
 *
 * What the proxy needs for a send is the client id in the metadata (and the signature when it checks
 * credentials); it does not look at a client's settings or heartbeats to accept a SendMessage (Apache
 * RocketMQ proxy, `GrpcMessagingApplication.validateContext` and `SendMessageActivity`). So there is no
 * Telemetry stream, no Heartbeat and no NotifyClientTermination: the broker's producer-side settings are
 * not fetched, and the checks the official client makes from them are made here from their proxy
 * defaults (message type against the route, `validate_message_type` on) or left to the broker (body
 * size: the producer already checks `maxBodyBytes`, and the broker answers 41301 above its own limit).
 *
 * This module owns the connections and their lifecycle; routes are kept by ./route-table.ts, and the
 * SendMessage request and answer are made by ./send-message.ts.
 */

const SERVICE = '/apache.rocketmq.v2.MessagingService';
const SEND_MESSAGE = `${SERVICE}/SendMessage`;
const QUERY_ROUTE = `${SERVICE}/QueryRoute`;
/** A session silent for longer than this (a frozen instance) is replaced before the next call. */
const DEFAULT_IDLE_RECONNECT_MS = 30_000;
/** Same floor as the official transport: one replacement per second while the broker is down. */
const MIN_RESET_INTERVAL_MS = 1000;
/** How long close() lets calls in flight finish before it cuts the connections. */
const CLOSE_GRACE_MS = 1000;

export interface LeanTransportOptions {
  /** @default 30 000 */
  idleReconnectMs?: number;
  /**
   * The clock that idleness and route age are measured with; tests move it to simulate a long freeze.
   * Deadlines always use `Date.now`. @default Date.now
   */
  clock?: () => number;
}

export class LeanTransport implements Transport {
  readonly #config: ResolvedConfig;
  readonly #logger: ClientLogger;
  #metadata: RequestMetadata;
  readonly #accessPoint: AccessPoint;
  readonly #idleReconnectMs: number;
  readonly #clock: () => number;
  readonly #channels = new Map<string, GrpcChannel>();
  readonly #routes: RouteTable;
  /**
   * One message id per message, kept across the producer's attempts (it passes the same prepared
   * message each time): a retry after a timeout that the broker did store then carries the same
   * UNIQ_KEY, so consumers can drop the duplicate by id, as with the Java client's own retries.
   */
  readonly #messageIds = new WeakMap<PreparedMessage, string>();
  #generation = 0;
  #answers = 0;
  #lastReset = 0;
  #closed = false;

  constructor(config: ResolvedConfig, logger: ClientLogger, options: LeanTransportOptions = {}) {
    this.#config = config;
    this.#logger = logger;
    this.#metadata = new RequestMetadata(config.namespace, config.credentials);
    this.#accessPoint = parseAccessPoint(config.endpoints);
    this.#idleReconnectMs = options.idleReconnectMs ?? DEFAULT_IDLE_RECONNECT_MS;
    this.#clock = options.clock ?? Date.now;
    this.#routes = new RouteTable({
      query: (topic, deadline) => this.#queryRoute(topic, deadline),
      clock: this.#clock,
      refreshTimeoutMs: () => this.#config.sendTimeoutMs,
      logger,
    });
  }

  get generation(): number {
    return this.#generation;
  }

  get answers(): number {
    return this.#answers;
  }

  /** The client id this transport sends as `x-mq-client-id`. */
  get clientId(): string {
    return this.#metadata.clientId;
  }

  #channel(authority: string): GrpcChannel {
    let channel = this.#channels.get(authority);
    if (!channel) {
      channel = new GrpcChannel({
        authority,
        tls: this.#config.ssl,
        idleReconnectMs: this.#idleReconnectMs,
        idleClock: this.#clock,
        onAnswer: () => {
          this.#answers++;
        },
        log: (message, ...args) => this.#logger.debug(message, ...args),
      });
      this.#channels.set(authority, channel);
    }
    return channel;
  }

  async #call(authority: string, path: string, body: Uint8Array, deadline: number): Promise<Buffer> {
    // The producer replaces the credentials object when they rotate (STS), then resets the transport.
    if (!this.#metadata.isFor(this.#config.credentials)) {
      this.#metadata = new RequestMetadata(this.#config.namespace, this.#config.credentials, this.clientId);
    }
    return this.#channel(authority).unary(path, this.#metadata.headers(Date.now()), body, deadline);
  }

  async #queryRoute(topic: string, deadline: number) {
    const request = QueryRouteRequestType.encode({
      topic: { name: topic, resourceNamespace: this.#config.namespace },
      endpoints: this.#accessPoint.endpoints,
    }).finish();
    const answer = await this.#call(this.#accessPoint.authority, QUERY_ROUTE, request, deadline);
    const response = QueryRouteResponseType.decode(answer) as unknown as QueryRouteResponseObject;
    checkStatus(response.status);
    return response.messageQueues ?? [];
  }

  send(message: PreparedMessage, options?: SendAttemptOptions): Promise<TransportReceipt> {
    if (this.#closed) return Promise.reject(notSent(new Error('Producer is not running now')));
    const deadline = options?.deadline ?? Date.now() + this.#config.sendTimeoutMs;
    const route = this.#routes.cached(message.topic);
    if (route) {
      try {
        return this.#sendTo(queueFor(route, message), message, deadline);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.#routes
      .lookUp(message.topic, deadline)
      .then((looked) => this.#sendTo(queueFor(looked, message), message, deadline));
  }

  async #sendTo(
    queue: PublishingQueue,
    message: PreparedMessage,
    deadline: number,
  ): Promise<TransportReceipt> {
    const now = Date.now();
    let messageId = this.#messageIds.get(message);
    if (messageId === undefined) {
      messageId = createMessageId(now);
      this.#messageIds.set(message, messageId);
    }
    const request = encodeSendRequest({ message, queue, messageId, namespace: this.#config.namespace, now });
    const answer = await this.#call(queue.authority, SEND_MESSAGE, request, deadline);
    return decodeSendAnswer(answer, message.topic);
  }

  async warmUp(topics: readonly string[]): Promise<void> {
    if (this.#closed) throw notSent(new Error('Producer is not running now'));
    for (const topic of topics) {
      try {
        await this.#routes.lookUp(topic, Date.now() + this.#config.sendTimeoutMs);
      } catch (error) {
        if ((error as { code?: unknown }).code === TOPIC_NOT_FOUND) this.forgetTopic(topic);
        throw error;
      }
    }
  }

  reset(generation: number, force = false): boolean {
    if (generation !== this.#generation || this.#closed) return false;
    const now = Date.now();
    if (!force && now - this.#lastReset < MIN_RESET_INTERVAL_MS) return false;
    this.#lastReset = now;
    this.#generation++;
    this.#logger.debug('replacing %d session(s) (generation %d)', this.#channels.size, this.#generation);
    for (const channel of this.#channels.values()) channel.reset();
    return true;
  }

  forgetTopic(topic: string): void {
    this.#routes.forget(topic);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const channels = [...this.#channels.values()];
    this.#logger.debug('closing the sessions to %d endpoint(s)', channels.length);
    this.#channels.clear();
    await Promise.all(channels.map((channel) => channel.close(CLOSE_GRACE_MS)));
  }
}
