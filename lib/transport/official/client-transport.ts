import { Producer as ClientProducer, type MessageOptions } from 'rocketmq-client-nodejs';
import type { ResolvedConfig } from '../../config.js';
import type { ClientLogger } from '../../log.js';
import type { PreparedMessage } from '../../message.js';
import { markRequestWritten } from '../errors.js';
import type { Transport, TransportReceipt } from '../types.js';
import { routeOf } from './internals.js';
import {
  countAnswers,
  forgetUnknownTopic,
  guardTelemetryStreams,
  installConnectionEpochs,
  makeShutdownTotal,
  useFreshConnections,
} from './workarounds/index.js';

/** The client refuses request timeouts under one second. */
const MIN_CLIENT_REQUEST_TIMEOUT_MS = 1000;
/**
 * While the broker is down every send fails, and each failure would replace the client; one
 * replacement per second is enough to get a fresh connection once it is back.
 */
const MIN_RESET_INTERVAL_MS = 1000;
/** The broker's status for a topic it does not know. */
const TOPIC_NOT_FOUND = 40402;

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
 * A transport over `rocketmq-client-nodejs`. The client is created lazily and started without `topics`:
 * routes are then fetched on first send, which skips the startup wait for broker settings (that wait
 * has no timeout and can hang on a settings race) and keeps cold starts short. Every client it creates
 * gets the workarounds of ./workarounds/ for the client's defects.
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
    countAnswers(client, () => {
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
        await routeOf(client, topic);
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
    useFreshConnections();
    const old = this.#client;
    this.#client = undefined;
    this.#starting = undefined;
    if (old) this.#retire(old);
    return true;
  }

  forgetTopic(topic: string): void {
    if (this.#client) forgetUnknownTopic(this.#client, topic);
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
