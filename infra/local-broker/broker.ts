import { Server, ServerCredentials } from '@grpc/grpc-js';
import { ConsumerGroups, type NewGroupStart } from './consumer-groups.js';
import { FaultInjector } from './faults.js';
import type { BrokerStats, LocalBroker, LocalBrokerOptions } from './index.js';
import { TcpListener } from './listener.js';
import { MessagingServiceService } from './proto.js';
import type { ProxyMode } from './send.js';
import { createMessagingService, type ServiceContext } from './server.js';
import { TelemetrySessions } from './settings.js';
import { MessageStore, type StoredMessage } from './store.js';
import { DEFAULT_TOPICS_FILE, loadTopics, type TopicMessageType, validateTopics } from './topics.js';

const MiB = 1024 * 1024;
/**
 * How long stop() and restart() let open calls finish. A client that has shut down has removed its
 * stream listeners, so a stream cut mid-flight would throw an unhandled 'error' in its process.
 */
const CLOSE_GRACE_MS = 250;

const DEFAULTS = {
  port: 0,
  host: '127.0.0.1',
  maxMessagesPerTopic: 100_000,
  maxBodySize: 4 * MiB,
  validateMessageType: true,
  proxyMode: 'cluster' as ProxyMode,
  queuesPerTopic: 8,
  newGroupStart: 'last' as NewGroupStart,
  acceptEmptyBody: false,
  waitTimeoutMs: 5000,
};

// Listing every option here (the compiler checks it) lets unknown ones be rejected.
const KNOWN_OPTIONS = {
  port: true,
  host: true,
  topics: true,
  credentials: true,
  maxMessagesPerTopic: true,
  maxBodySize: true,
  validateMessageType: true,
  log: true,
  proxyMode: true,
  queuesPerTopic: true,
  newGroupStart: true,
  acceptEmptyBody: true,
} satisfies Record<keyof LocalBrokerOptions, true>;

function integerOption(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max = Infinity,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `${name} must be an integer from ${min}${max < Infinity ? ` to ${max}` : ' up'}, got ${value}`,
    );
  }
  return value;
}

function oneOf<T extends string>(name: string, value: T | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value)) {
    throw new TypeError(
      `${name} must be ${allowed.map((entry) => `'${entry}'`).join(' or ')}, got ${String(value)}`,
    );
  }
  return value;
}

function resolveTopics(topics: LocalBrokerOptions['topics']): Map<string, TopicMessageType> {
  if (topics === undefined) return loadTopics(DEFAULT_TOPICS_FILE);
  return typeof topics === 'string' ? loadTopics(topics) : validateTopics(topics, 'options.topics');
}

function resolveCredentials(credentials: LocalBrokerOptions['credentials']): Map<string, string> | undefined {
  if (credentials === undefined) return undefined;
  const entries = Object.entries(credentials);
  if (entries.length === 0 || entries.some(([key, secret]) => key === '' || typeof secret !== 'string')) {
    throw new TypeError('credentials must map non-empty access keys to secret strings');
  }
  return new Map(entries);
}

function describe(message: StoredMessage): string {
  const keys = message.keys.length > 0 ? message.keys.join(',') : '-';
  return `stored topic=${message.topic} type=${message.type} tag=${message.tag ?? '-'} keys=${keys} id=${message.messageId} size=${message.body.length}`;
}

/** Starts an embedded broker; resolves once it listens. */
export async function startLocalBroker(options: LocalBrokerOptions = {}): Promise<LocalBroker> {
  const unknown = Object.keys(options).filter((name) => !(name in KNOWN_OPTIONS));
  if (unknown.length > 0) throw new TypeError(`Unknown local broker option(s): ${unknown.join(', ')}`);
  const proxyMode = oneOf('proxyMode', options.proxyMode, ['cluster', 'local'], DEFAULTS.proxyMode);
  const newGroupStart = oneOf(
    'newGroupStart',
    options.newGroupStart,
    ['last', 'oldest'],
    DEFAULTS.newGroupStart,
  );
  const port = integerOption('port', options.port, DEFAULTS.port, 0, 65_535);
  const broker = new EmbeddedBroker(options.host ?? DEFAULTS.host, port, {
    topics: resolveTopics(options.topics),
    credentials: resolveCredentials(options.credentials),
    maxMessagesPerTopic: integerOption(
      'maxMessagesPerTopic',
      options.maxMessagesPerTopic,
      DEFAULTS.maxMessagesPerTopic,
      1,
    ),
    maxBodySize: integerOption('maxBodySize', options.maxBodySize, DEFAULTS.maxBodySize, 1),
    validateMessageType: options.validateMessageType ?? DEFAULTS.validateMessageType,
    log: options.log,
    proxyMode,
    queuesPerTopic: integerOption('queuesPerTopic', options.queuesPerTopic, DEFAULTS.queuesPerTopic, 1, 1024),
    newGroupStart,
    acceptEmptyBody: options.acceptEmptyBody ?? DEFAULTS.acceptEmptyBody,
  });
  await broker.listen();
  return broker;
}

interface ResolvedOptions {
  topics: Map<string, TopicMessageType>;
  credentials: Map<string, string> | undefined;
  maxMessagesPerTopic: number;
  maxBodySize: number;
  validateMessageType: boolean;
  log: ((line: string) => void) | undefined;
  proxyMode: ProxyMode;
  queuesPerTopic: number;
  newGroupStart: NewGroupStart;
  acceptEmptyBody: boolean;
}

class EmbeddedBroker implements LocalBroker {
  readonly host: string;
  readonly topics: ReadonlyMap<string, TopicMessageType>;
  readonly faults: FaultInjector;
  #port: number;
  readonly #store: MessageStore;
  readonly #context: ServiceContext;
  readonly #server: Server;
  readonly #listener: TcpListener;
  readonly #drainSessions: (graceMs: number) => void;
  readonly #waiters = new Set<(error: Error) => void>();
  #stopped = false;

  constructor(host: string, port: number, options: ResolvedOptions) {
    this.host = host;
    this.#port = port;
    this.topics = options.topics;
    const log = options.log;
    this.#store = new MessageStore(options.maxMessagesPerTopic, options.queuesPerTopic, (message) =>
      log?.(describe(message)),
    );
    this.faults = new FaultInjector(
      () => this.#listener.dropConnections(),
      () => this.#listener.peers(),
    );
    this.#context = {
      topics: options.topics,
      store: this.#store,
      groups: new ConsumerGroups(this.#store, options.newGroupStart),
      maxBodySize: options.maxBodySize,
      proxyMode: options.proxyMode,
      acceptEmptyBody: options.acceptEmptyBody,
      queuesPerTopic: options.queuesPerTopic,
      credentials: options.credentials,
      faults: this.faults,
      telemetry: new TelemetrySessions(options, () => this.faults.blackholed),
      counters: { sendMessageCalls: 0, rejectedSends: 0, rpcCalls: new Map() },
      delayedResponses: new Set(),
      longPolls: new Set(),
      address: () => ({ host: this.host, port: this.#port }),
      storeHost: () => this.endpoint,
    };
    this.#server = new Server({
      // A body at the size limit plus its envelope must still reach the size check (41301).
      'grpc.max_receive_message_length': Math.max(64 * MiB, options.maxBodySize + MiB),
    });
    this.#server.addService(MessagingServiceService, createMessagingService(this.#context));
    const injector = this.#server.createConnectionInjector(ServerCredentials.createInsecure());
    this.#drainSessions = (graceMs) => injector.drain(graceMs);
    this.#listener = new TcpListener((socket) => injector.injectConnection(socket));
  }

  get port(): number {
    return this.#port;
  }

  get endpoint(): string {
    return `${this.host}:${this.#port}`;
  }

  async listen(): Promise<void> {
    this.#port = await this.#listener.listen(this.host, this.#port);
  }

  messages(topic: string): StoredMessage[] {
    return this.#store.messages(topic);
  }

  waitForMessages(
    topic: string,
    count: number,
    timeoutMs = DEFAULTS.waitTimeoutMs,
  ): Promise<StoredMessage[]> {
    return new Promise((resolve, reject) => {
      const settle = (outcome: StoredMessage[] | Error) => {
        clearTimeout(timer);
        unwatch();
        this.#waiters.delete(settle);
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      const check = () => {
        if (this.#store.countOf(topic) < count) return;
        const messages = this.#store.messages(topic);
        if (messages.length >= count) settle(messages);
      };
      const timer = setTimeout(() => {
        const stored = this.#store.messages(topic).length;
        settle(
          new Error(
            `Timed out after ${timeoutMs} ms waiting for ${count} messages in ${topic}, ${stored} stored`,
          ),
        );
      }, timeoutMs);
      timer.unref();
      const unwatch = this.#store.watch(topic, check);
      this.#waiters.add(settle);
      check();
    });
  }

  stats(): BrokerStats {
    const { counters } = this.#context;
    return {
      sendMessageCalls: counters.sendMessageCalls,
      storedMessages: this.#store.storedCount,
      rejectedSends: counters.rejectedSends,
      rpcCalls: Object.fromEntries(counters.rpcCalls),
    };
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#disconnect();
    for (const settle of [...this.#waiters]) settle(new Error('The local broker was stopped'));
    this.#server.forceShutdown();
  }

  async restart(): Promise<void> {
    if (this.#stopped) throw new Error('The local broker was stopped; start a new one');
    await this.#disconnect();
    await this.listen();
  }

  /** Answers what can be answered (long-polls end empty, telemetry streams end), then closes. */
  async #disconnect(): Promise<void> {
    for (const endLongPoll of [...this.#context.longPolls]) endLongPoll();
    for (const timer of this.#context.delayedResponses) clearTimeout(timer);
    this.#context.delayedResponses.clear();
    this.#context.telemetry.closeAll();
    this.#drainSessions(CLOSE_GRACE_MS);
    await this.#listener.close(CLOSE_GRACE_MS);
  }
}
