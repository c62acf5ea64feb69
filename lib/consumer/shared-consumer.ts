import type { MessageView, SimpleConsumer } from 'rocketmq-client-nodejs';
import { type ProducerConfigOptions, resolveConfig } from '../config.js';
import { ErrorCode, RocketMQError } from '../errors.js';
import { onInstanceStop } from '../lifecycle.js';
import { clientLoggerAdapter, getLogger, libraryLog } from '../log.js';

/**
 * The module-scoped SimpleConsumers of this process, one per endpoint, group, topic and tag filter,
 * reused by every warm invocation. Each is created lazily (the official client is loaded only then),
 * its startup bounded by our own timeout (the client waits for the broker's settings without one), and
 * replaced once when a warm instance finds its connection dead after a freeze.
 */

export interface ConsumerKey {
  topic: string;
  consumerGroup: string;
  /** Tag filter expression (`*`, `a || b`). */
  tag: string;
  /** Long-polling time of one receive. */
  awaitDurationMs: number;
  client: ProducerConfigOptions | undefined;
}

export interface ConsumerHandle {
  receive(count: number, invisibleMs: number): Promise<MessageView[]>;
  ack(view: MessageView): Promise<void>;
  changeInvisibleDuration(view: MessageView, invisibleMs: number): Promise<void>;
  /** Drops this client after a transport failure; the next `acquire` creates a fresh one. */
  discard(): Promise<void>;
  /** Whether a receive on this client ever succeeded (a warm client). */
  readonly warm: boolean;
}

const STARTUP_TIMEOUT_MS = 5000;
const REQUEST_TIMEOUT_MS = 3000;

interface Entry {
  client: Promise<SimpleConsumer>;
  warm: boolean;
}

const consumers = new Map<string, Entry>();
/** Keys whose client was discarded after a failure: the next one gets fresh connections. */
const replaced = new Set<string>();

function keyOf(key: ConsumerKey, endpoints: string, namespace: string): string {
  return JSON.stringify([endpoints, namespace, key.consumerGroup, key.topic, key.tag, key.awaitDurationMs]);
}

async function shutdownQuietly(client: SimpleConsumer): Promise<void> {
  try {
    await client.shutdown();
  } catch (error) {
    getLogger().debug({ message: 'consumer shutdown failed', error: (error as Error).message });
  }
}

async function startClient(key: ConsumerKey, fresh: boolean): Promise<SimpleConsumer> {
  const config = resolveConfig(key.client);
  const { SimpleConsumer: Client } = await import('rocketmq-client-nodejs');
  const official = await import('../transport/official/workarounds/index.js');
  // A replacement must not be handed the pooled connection that just went silent.
  if (fresh) official.useFreshConnections();
  const { credentials } = config;
  const client = new Client({
    endpoints: config.endpoints,
    namespace: config.namespace,
    sslEnabled: config.ssl,
    consumerGroup: key.consumerGroup,
    subscriptions: new Map([[key.topic, key.tag]]),
    awaitDuration: key.awaitDurationMs,
    requestTimeout: REQUEST_TIMEOUT_MS,
    // Our rounds own the retry of a failed receive.
    maxRetryAttempts: 1,
    logger: clientLoggerAdapter(libraryLog(getLogger())),
    ...(credentials && {
      sessionCredentials: {
        accessKey: credentials.accessKeyId,
        accessSecret: credentials.accessKeySecret,
        ...(credentials.securityToken && { securityToken: credentials.securityToken }),
      },
    }),
  });
  // Its shutdown then ends even when the broker cannot be reached (else it stops halfway and leaks).
  official.makeShutdownTotal(client);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new RocketMQError(
            ErrorCode.UNAVAILABLE,
            `consumer startup did not finish in ${STARTUP_TIMEOUT_MS} ms`,
            {
              topic: key.topic,
            },
          ),
        ),
      STARTUP_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([client.startup(), timeout]);
    return client;
  } catch (error) {
    await shutdownQuietly(client);
    if (error instanceof RocketMQError) throw error;
    throw new RocketMQError(ErrorCode.UNAVAILABLE, `consumer startup failed: ${(error as Error).message}`, {
      cause: error,
      topic: key.topic,
    });
  } finally {
    clearTimeout(timer);
  }
}

let stopHookRegistered = false;

/** The shared consumer for `key`, started on first use. */
export function acquireConsumer(key: ConsumerKey): ConsumerHandle {
  const config = resolveConfig(key.client);
  const id = keyOf(key, config.endpoints, config.namespace);
  let entry = consumers.get(id);
  if (!entry) {
    const fresh = replaced.delete(id);
    const created: Entry = { client: startClient(key, fresh), warm: false };
    // A failed start is not cached: the next invocation tries again.
    created.client.catch(() => {
      if (consumers.get(id) === created) consumers.delete(id);
    });
    consumers.set(id, created);
    entry = created;
    // FC preStop and Lambda's SIGTERM stop the instance's consumers with everything else.
    if (!stopHookRegistered) {
      stopHookRegistered = true;
      onInstanceStop((deadline) => shutdownSharedConsumer({ timeoutMs: deadline - Date.now() }));
    }
  }
  const current = entry;
  return {
    get warm() {
      return current.warm;
    },
    async receive(count, invisibleMs) {
      const views = await (await current.client).receive(count, invisibleMs);
      current.warm = true;
      return views;
    },
    async ack(view) {
      await (await current.client).ack(view);
    },
    async changeInvisibleDuration(view, invisibleMs) {
      await (await current.client).changeInvisibleDuration(view, invisibleMs);
    },
    async discard() {
      if (consumers.get(id) === current) consumers.delete(id);
      replaced.add(id);
      // In the background: a dead connection must not hold the invocation up.
      void current.client.then(shutdownQuietly, () => undefined);
    },
  };
}

/** How many shared consumers are open; for tests and diagnostics. */
export function sharedConsumerCount(): number {
  return consumers.size;
}

/**
 * Shuts every shared consumer down (FC preStop, Lambda SIGTERM, the end of a CLI), bounded by
 * `timeoutMs`; the next poll creates fresh ones.
 */
export async function shutdownSharedConsumer(options: { timeoutMs?: number } = {}): Promise<void> {
  const entries = [...consumers.values()];
  consumers.clear();
  const all = Promise.all(
    entries.map(async (entry) => {
      const client = await entry.client.catch(() => undefined);
      if (client) await shutdownQuietly(client);
    }),
  );
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    all,
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, options.timeoutMs ?? 2000);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
}
