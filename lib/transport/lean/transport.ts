import { hostname } from 'node:os';
import type { ResolvedConfig } from '../../config.js';
import type { ClientLogger } from '../../log.js';
import type { PreparedMessage } from '../../message.js';
import { BrokerStatusError } from '../errors.js';
import type { SendAttemptOptions, Transport, TransportReceipt } from '../types.js';
import { GrpcChannel } from './channel.js';
import { createMessageId } from './message-id.js';
import { RequestMetadata } from './metadata.js';
import {
  AddressScheme,
  Code,
  Encoding,
  type EndpointsObject,
  int64ToNumber,
  MessageType,
  QueryRouteRequestType,
  type QueryRouteResponseObject,
  QueryRouteResponseType,
  SendMessageRequestType,
  type SendMessageResponseObject,
  SendMessageResponseType,
  type StatusObject,
} from './proto.js';
import { type PublishingQueue, PublishingRoute } from './route.js';

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
 */

const SERVICE = '/apache.rocketmq.v2.MessagingService';
const SEND_MESSAGE = `${SERVICE}/SendMessage`;
const QUERY_ROUTE = `${SERVICE}/QueryRoute`;
/** Routes are looked up again after this long, in the background, as the official client does every 30 s. */
const ROUTE_REFRESH_MS = 30_000;
/** A session silent for longer than this (a frozen instance) is replaced before the next call. */
export const DEFAULT_IDLE_RECONNECT_MS = 30_000;
/** Same floor as the official transport: one replacement per second while the broker is down. */
const MIN_RESET_INTERVAL_MS = 1000;
/** How long close() lets calls in flight finish before it cuts the connections. */
const CLOSE_GRACE_MS = 1000;
const BORN_HOST = hostname();

export interface LeanTransportOptions {
  /** @default 30 000 */
  idleReconnectMs?: number;
  /**
   * The clock that idleness and route age are measured with; tests move it to simulate a long freeze.
   * Deadlines always use `Date.now`. @default Date.now
   */
  clock?: () => number;
}

interface RouteEntry {
  route: PublishingRoute;
  fetchedAt: number;
  refreshing: boolean;
}

/** The broker's verdict: OK, MULTIPLE_RESULTS and MESSAGE_NOT_FOUND pass, every other code throws. */
function checkStatus(status: StatusObject | null | undefined): void {
  const code = status?.code;
  if (code === undefined || code === Code.OK || code === Code.MULTIPLE_RESULTS) return;
  if (code === Code.MESSAGE_NOT_FOUND) return;
  throw new BrokerStatusError(code, status?.message ?? '');
}

/** A failure of a check made before anything was sent. */
function notSent<T extends Error>(error: T): T & { requestWritten: false } {
  return Object.assign(error, { requestWritten: false as const });
}

function messageTypeOf(message: PreparedMessage): number {
  if (message.messageGroup) return MessageType.FIFO;
  if (message.deliveryTimestamp) return MessageType.DELAY;
  return MessageType.NORMAL;
}

function timestamp(epochMs: number): { seconds: number; nanos: number } {
  const seconds = Math.floor(epochMs / 1000);
  return { seconds, nanos: (epochMs - seconds * 1000) * 1e6 };
}

function parseAccessPoint(endpoints: string): { authority: string; endpoints: EndpointsObject } {
  const addresses = endpoints.split(';').map((endpoint) => {
    const separator = endpoint.lastIndexOf(':');
    const host = endpoint.slice(0, separator).replace(/^\[(.*)\]$/, '$1');
    return { host, port: Number(endpoint.slice(separator + 1)) };
  });
  const first = addresses[0] as { host: string; port: number };
  const scheme = /^\d+\.\d+\.\d+\.\d+$/.test(first.host)
    ? AddressScheme.IPV4
    : first.host.includes(':')
      ? AddressScheme.IPV6
      : AddressScheme.DOMAIN_NAME;
  const host = first.host.includes(':') ? `[${first.host}]` : first.host;
  return { authority: `${host}:${first.port}`, endpoints: { scheme, addresses } };
}

export class LeanTransport implements Transport {
  readonly #config: ResolvedConfig;
  readonly #logger: ClientLogger;
  #metadata: RequestMetadata;
  readonly #accessPoint: { authority: string; endpoints: EndpointsObject };
  readonly #idleReconnectMs: number;
  readonly #clock: () => number;
  readonly #channels = new Map<string, GrpcChannel>();
  readonly #routes = new Map<string, RouteEntry>();
  readonly #lookups = new Map<string, Promise<PublishingRoute>>();
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

  async #queryRoute(topic: string, deadline: number): Promise<PublishingRoute> {
    const request = QueryRouteRequestType.encode({
      topic: { name: topic, resourceNamespace: this.#config.namespace },
      endpoints: this.#accessPoint.endpoints,
    }).finish();
    const answer = await this.#call(this.#accessPoint.authority, QUERY_ROUTE, request, deadline);
    const response = QueryRouteResponseType.decode(answer) as unknown as QueryRouteResponseObject;
    checkStatus(response.status);
    const previous = this.#routes.get(topic)?.route;
    const queues = response.messageQueues ?? [];
    const route = previous ? previous.update(queues) : new PublishingRoute(queues);
    this.#routes.set(topic, { route, fetchedAt: this.#clock(), refreshing: false });
    this.#logger.debug('route of %s: %d writable queue(s)', topic, route.size);
    return route;
  }

  /** One lookup per topic at a time; concurrent first sends share it. */
  #lookUp(topic: string, deadline: number): Promise<PublishingRoute> {
    let lookup = this.#lookups.get(topic);
    if (!lookup) {
      lookup = this.#queryRoute(topic, deadline).finally(() => this.#lookups.delete(topic));
      this.#lookups.set(topic, lookup);
    }
    return lookup;
  }

  /** Refreshes a route that is getting old without making the send wait for it. */
  #refreshInBackground(topic: string, entry: RouteEntry): void {
    entry.refreshing = true;
    this.#lookUp(topic, Date.now() + this.#config.sendTimeoutMs).then(
      () => undefined,
      (error: unknown) => {
        entry.refreshing = false;
        if ((error as { code?: unknown }).code === 40402) this.#routes.delete(topic);
        this.#logger.warn('route refresh for %s failed: %s', topic, (error as Error).message);
      },
    );
  }

  #queueFor(route: PublishingRoute, message: PreparedMessage): PublishingQueue {
    const queue = message.messageGroup ? route.byMessageGroup(message.messageGroup) : route.next();
    const type = messageTypeOf(message);
    if (!queue.acceptMessageTypes.includes(type)) {
      throw notSent(
        new TypeError(
          `Current message type not match with topic accept message types, topic=${message.topic}, ` +
            `actualMessageType=${type}, acceptMessageTypes=${JSON.stringify(queue.acceptMessageTypes)}`,
        ),
      );
    }
    return queue;
  }

  send(message: PreparedMessage, options?: SendAttemptOptions): Promise<TransportReceipt> {
    if (this.#closed) return Promise.reject(notSent(new Error('Producer is not running now')));
    const now = Date.now();
    const deadline = options?.deadline ?? now + this.#config.sendTimeoutMs;
    const entry = this.#routes.get(message.topic);
    if (entry) {
      if (!entry.refreshing && this.#clock() - entry.fetchedAt > ROUTE_REFRESH_MS) {
        this.#refreshInBackground(message.topic, entry);
      }
      try {
        return this.#sendTo(this.#queueFor(entry.route, message), message, deadline);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.#lookUp(message.topic, deadline).then((route) =>
      this.#sendTo(this.#queueFor(route, message), message, deadline),
    );
  }

  async #sendTo(
    target: PublishingQueue,
    message: PreparedMessage,
    deadline: number,
  ): Promise<TransportReceipt> {
    const now = Date.now();
    let messageId = this.#messageIds.get(message);
    if (messageId === undefined) {
      messageId = createMessageId(now);
      this.#messageIds.set(message, messageId);
    }
    const systemProperties: Record<string, unknown> = {
      keys: message.keys,
      messageId,
      bornTimestamp: timestamp(now),
      bornHost: BORN_HOST,
      bodyEncoding: Encoding.IDENTITY,
      queueId: target.queue.id ?? 0,
      messageType: messageTypeOf(message),
    };
    if (message.tag) systemProperties.tag = message.tag;
    if (message.deliveryTimestamp) systemProperties.deliveryTimestamp = timestamp(message.deliveryTimestamp);
    if (message.messageGroup) systemProperties.messageGroup = message.messageGroup;
    const request = SendMessageRequestType.encode({
      messages: [
        {
          topic: { name: message.topic, resourceNamespace: this.#config.namespace },
          userProperties: message.properties,
          systemProperties,
          body: message.body,
        },
      ],
    }).finish();
    const answer = await this.#call(target.authority, SEND_MESSAGE, request, deadline);
    const response = SendMessageResponseType.decode(answer) as unknown as SendMessageResponseObject;
    const entries = response.entries ?? [];
    const failed = entries.find((entry) => entry.status?.code !== Code.OK);
    checkStatus(failed ? failed.status : response.status);
    const first = entries[0];
    if (!first)
      throw new Error(`the broker accepted the send to ${message.topic} but returned no result entry`);
    return { messageId: first.messageId ?? '', offset: int64ToNumber(first.offset) };
  }

  async warmUp(topics: readonly string[]): Promise<void> {
    if (this.#closed) throw notSent(new Error('Producer is not running now'));
    for (const topic of topics) {
      try {
        await this.#lookUp(topic, Date.now() + this.#config.sendTimeoutMs);
      } catch (error) {
        if ((error as { code?: unknown }).code === 40402) this.forgetTopic(topic);
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
    this.#routes.delete(topic);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const channels = [...this.#channels.values()];
    this.#logger.debug('closing the sessions to %d endpoint(s)', channels.length);
    this.#channels.clear();
    await Promise.all(channels.map((channel) => channel.close(CLOSE_GRACE_MS)));
  }
}

export const createLeanTransport = (
  config: ResolvedConfig,
  logger: ClientLogger,
  options?: LeanTransportOptions,
): Transport => new LeanTransport(config, logger, options);
