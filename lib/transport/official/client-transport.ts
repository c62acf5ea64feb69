import { Duplex } from 'node:stream';
import { Producer as ClientProducer, type MessageOptions, type TopicRouteData } from 'rocketmq-client-nodejs';
import grpcService from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_grpc_pb.js';
import type { ResolvedConfig } from '../../config.js';
import type { ClientLogger } from '../../log.js';
import type { PreparedMessage } from '../../message.js';
import { markRequestWritten } from '../errors.js';
import type { Transport, TransportReceipt } from '../types.js';

interface RouteLookup {
  getRouteData(topic: string): Promise<TopicRouteData>;
}

/** NotifyClientTermination gets this long; the broker may be gone, and shutdown must not wait on it. */
const TERMINATION_TIMEOUT_MS = 1000;
/** The client refuses request timeouts under one second. */
const MIN_CLIENT_REQUEST_TIMEOUT_MS = 1000;

function toClientMessage(message: PreparedMessage): MessageOptions {
  const options: MessageOptions = {
    topic: message.topic,
    body: message.body,
    keys: [...message.keys],
    properties: new Map(Object.entries(message.properties)),
  };
  if (message.tag !== undefined) options.tag = message.tag;
  if (message.messageGroup !== undefined) options.messageGroup = message.messageGroup;
  if (message.deliveryTimestamp !== undefined)
    options.deliveryTimestamp = new Date(message.deliveryTimestamp);
  return options;
}

/**
 * grpc-js pools connections process-wide by target and channel options, and keeps a pooled connection
 * for up to 10 s after its last channel closed. A client created to replace one whose connection went
 * silent (the instance was frozen and the network forgot the connection) would therefore be handed
 * the same dead connection. The client builds its gRPC channels itself and accepts no channel options,
 * so its generated client class is wrapped to add one more option: a connection epoch that each reset
 * advances. Channels of one epoch still share one connection; a new epoch gets a fresh one.
 */
const CONNECTION_EPOCH_OPTION = 'grpc-node.rocketmq_serverless.connection_epoch';
/**
 * grpc-js waits 1 s before reconnecting to a broker that went away, then up to 120 s. A function lives
 * seconds, so it retries sooner: 100 ms, then at most every second (with grpc-js's jitter).
 */
const RECONNECT_BACKOFF = {
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1000,
};
/**
 * While the broker is down every send fails, and each failure would replace the client; one
 * replacement per second is enough to get a fresh connection once it is back.
 */
const MIN_RESET_INTERVAL_MS = 1000;
let connectionEpoch = 0;
let epochsInstalled = false;

function installConnectionEpochs(): void {
  if (epochsInstalled) return;
  epochsInstalled = true;
  const exports = grpcService as unknown as Record<string, unknown>;
  const Generated = grpcService.MessagingServiceClient;
  exports.MessagingServiceClient = class extends Generated {
    constructor(address: string, credentials: ConstructorParameters<typeof Generated>[1], options?: object) {
      super(address, credentials, {
        ...RECONNECT_BACKOFF,
        ...options,
        [CONNECTION_EPOCH_OPTION]: connectionEpoch,
      });
    }
  };
}

/**
 * Clients of the official library created from now on open fresh connections instead of pooled ones,
 * which may be dead after a freeze; for the consumer's replacement client.
 */
export function useFreshConnections(): void {
  installConnectionEpochs();
  connectionEpoch++;
}

/**
 * Notes every answer the broker gives on this client's channel (routes, heartbeats, sends, whatever
 * status they carry): proof that the channel is alive, which tells a slow broker from a dead channel.
 */
function recordAnswers(client: ClientProducer, onAnswer: () => void): void {
  const rpc = client.getRpcClientManager();
  const noted = <T>(response: T) => {
    onAnswer();
    return response;
  };
  const queryRoute = rpc.queryRoute.bind(rpc);
  rpc.queryRoute = (...args) => queryRoute(...args).then(noted);
  const heartbeat = rpc.heartbeat.bind(rpc);
  rpc.heartbeat = (...args) => heartbeat(...args).then(noted);
  const sendMessage = rpc.sendMessage.bind(rpc);
  rpc.sendMessage = (...args) => sendMessage(...args).then(noted);
}

/**
 * The client's `shutdown()` awaits NotifyClientTermination and throws when the broker is unreachable,
 * skipping the steps after it (telemetry streams, channels, the 60 s idle timer), so the process never
 * exits. Bounding and swallowing that one notification makes shutdown always run to the end.
 */
export function makeShutdownTotal(client: Pick<ClientProducer, 'getRpcClientManager'>): void {
  const rpc = client.getRpcClientManager();
  const notify = rpc.notifyClientTermination.bind(rpc);
  rpc.notifyClientTermination = (endpoints, request) =>
    notify(endpoints, request, TERMINATION_TIMEOUT_MS).catch(() => undefined as never);
}

/**
 * Two defects of the client's telemetry streams are contained here, because either one outlives a
 * serverless invocation:
 * - it listens for a stream's `error` with `once` and drops every listener when it releases the stream,
 *   yet the stream can still fail afterwards; an `error` event with no listener is an uncaught exception
 *   that kills the instance. Every stream therefore keeps one listener that outlives the client's own.
 * - after a stream error it renews the stream from a 1 s timer that `shutdown()` does not cancel, and
 *   the renewal opens a fresh channel: a shut-down client would reconnect every second for ever. Once
 *   the client is retired, renewals get an inert stream that holds no handle and never fails.
 */
function guardTelemetryStreams(client: ClientProducer, isRetired: () => boolean): void {
  const create = client.createTelemetryStream.bind(client);
  const ignore = () => undefined;
  client.createTelemetryStream = (endpoints) => {
    if (isRetired()) return inertStream() as unknown as ReturnType<typeof create>;
    const stream = create(endpoints);
    stream.on('error', ignore);
    const removeAll = stream.removeAllListeners.bind(stream);
    stream.removeAllListeners = (...event: [(string | symbol)?]) => {
      // Passing `undefined` explicitly would remove only an event named "undefined".
      removeAll(...event);
      if (event[0] === undefined || event[0] === 'error') stream.on('error', ignore);
      return stream;
    };
    return stream;
  };
}

function inertStream(): Duplex {
  return new Duplex({
    objectMode: true,
    read: () => undefined,
    write: (_chunk: unknown, _encoding: BufferEncoding, callback: () => void) => callback(),
  });
}

/**
 * A transport over `rocketmq-client-nodejs`. The client is created lazily and started without `topics`:
 * routes are then fetched on first send, which skips the startup wait for broker settings (that wait
 * has no timeout and can hang on a settings race) and keeps cold starts short.
 */
export class ClientTransport implements Transport {
  #client: ClientProducer | undefined;
  #starting: Promise<ClientProducer> | undefined;
  #generation = 0;
  #lastReset = 0;
  #answers = 0;
  #closed = false;
  readonly #config: ResolvedConfig;
  readonly #logger: ClientLogger;
  readonly #retired = new Set<Promise<void>>();
  readonly #retiredClients = new WeakSet<ClientProducer>();

  constructor(config: ResolvedConfig, logger: ClientLogger) {
    this.#config = config;
    this.#logger = logger;
  }

  get #requestTimeoutMs(): number {
    return Math.max(MIN_CLIENT_REQUEST_TIMEOUT_MS, this.#config.sendTimeoutMs);
  }

  get generation(): number {
    return this.#generation;
  }

  get answers(): number {
    return this.#answers;
  }

  #create(): ClientProducer {
    installConnectionEpochs();
    const { credentials } = this.#config;
    const client = new ClientProducer({
      endpoints: this.#config.endpoints,
      namespace: this.#config.namespace,
      sslEnabled: this.#config.ssl,
      requestTimeout: this.#requestTimeoutMs,
      // Retry is ours: the client would retry even 4xx verdicts, and immediately.
      maxAttempts: 1,
      logger: this.#logger,
      ...(credentials && {
        sessionCredentials: {
          accessKey: credentials.accessKeyId,
          accessSecret: credentials.accessKeySecret,
          ...(credentials.securityToken && { securityToken: credentials.securityToken }),
        },
      }),
    });
    makeShutdownTotal(client);
    recordAnswers(client, () => {
      this.#answers++;
    });
    guardTelemetryStreams(client, () => this.#retiredClients.has(client));
    return client;
  }

  async #ensureClient(): Promise<ClientProducer> {
    if (this.#client) return this.#client;
    if (this.#closed) throw new Error('Producer is not running now');
    if (!this.#starting) {
      const client = this.#create();
      const generation = this.#generation;
      this.#starting = client.startup().then(
        () => {
          if (generation !== this.#generation || this.#closed) {
            // Reset or closed while starting: this client is already stale.
            this.#retire(client);
            return this.#ensureClient();
          }
          this.#client = client;
          this.#starting = undefined;
          return client;
        },
        (error: unknown) => {
          this.#starting = undefined;
          this.#retire(client);
          throw error;
        },
      );
    }
    return this.#starting;
  }

  send(message: PreparedMessage): Promise<TransportReceipt> {
    // The hot path skips the startup await once the client runs: one promise fewer per send.
    const client = this.#client;
    const sent = client
      ? client.send(toClientMessage(message))
      : this.#ensureClient().then((started) => started.send(toClientMessage(message)));
    return sent.then(
      (receipt) => ({ messageId: receipt.messageId, offset: receipt.offset }),
      (error: unknown) => {
        throw markRequestWritten(error);
      },
    );
  }

  async warmUp(topics: readonly string[]): Promise<void> {
    const client = await this.#ensureClient();
    for (const topic of topics) {
      try {
        await (client as unknown as RouteLookup).getRouteData(topic);
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
    connectionEpoch++;
    const old = this.#client;
    this.#client = undefined;
    this.#starting = undefined;
    if (old) this.#retire(old);
    return true;
  }

  forgetTopic(topic: string): void {
    // The client adds every topic it was asked to route to a protected set that it refreshes every 30 s
    // for good; a topic the broker does not know would fail each refresh and stop the ones after it.
    const topics = (this.#client as unknown as { topics?: Set<string> } | undefined)?.topics;
    if (topics instanceof Set) topics.delete(topic);
  }

  #retire(client: ClientProducer): void {
    this.#retiredClients.add(client);
    const done = client.shutdown().catch((error: unknown) => {
      this.#logger.warn('shutdown of a retired client failed: %s', (error as Error).message);
    });
    this.#retired.add(done);
    void done.finally(() => this.#retired.delete(done));
  }

  async close(): Promise<void> {
    if (this.#closed) {
      await Promise.all(this.#retired);
      return;
    }
    this.#closed = true;
    const starting = this.#starting;
    if (this.#client) this.#retire(this.#client);
    this.#client = undefined;
    // A startup still running retires its client itself once it sees the transport closed.
    if (starting) await starting.catch(() => undefined);
    await Promise.all(this.#retired);
  }
}
