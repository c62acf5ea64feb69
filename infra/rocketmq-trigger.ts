import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MessageView, SimpleConsumer } from 'rocketmq-client-nodejs';
import type { RocketMQTriggerConfig } from './fc/config.js';

/**
 * The FC RocketMQ trigger on the embedded broker: a consumer group reads the trigger's topic, collects
 * batches by the trigger's window (`batchSize` messages or `batchWindowSeconds`, whichever comes
 * first), and calls the function with the event FC would hand it — a Buffer of JSON, CloudEvents or
 * RawData as the trigger says. A batch the function acknowledges (returns) is acked; a failed one is
 * retried like BACKOFF_RETRY (three more times, here a second apart instead of 10–20 s); then, with a
 * `deadLetterArn`, acked as gone to the dead-letter queue, and without one left on the topic, to come
 * back when its invisible duration ends.
 */

export interface TriggerEmulationOptions {
  trigger: RocketMQTriggerConfig;
  functionName: string;
  endpoint: string;
  region: string;
  accountId: string;
  /** Calls the function with the event, as FC does (Buffer, context). */
  invoke: (event: Buffer) => Promise<unknown>;
  /** After each delivery, with what happened. */
  report: (line: string) => void;
  /** Delay between retries of a failed batch. @default 1000 */
  retryDelayMs?: number;
}

export interface TriggerEmulation {
  readonly trigger: RocketMQTriggerConfig;
  /** Batches delivered so far (acknowledged or dropped). */
  readonly delivered: number;
  stop(): Promise<void>;
}

const RETRIES = 3;
const RECEIVE_BATCH = 32;
const INVISIBLE_MS = 120_000;
const POLL_MS = 300;

const quiet = { info() {}, warn() {}, error() {}, debug() {} };

/** One message as the trigger's CloudEvents schema carries it (aliyun/fc-runtime-go-sdk README_RocketMQ). */
export function toCloudEvent(
  view: MessageView,
  trigger: RocketMQTriggerConfig,
  where: { region: string; accountId: string },
  now = new Date(),
) {
  const systemProperties: Record<string, string | number> = {
    MIN_OFFSET: '0',
    MAX_OFFSET: String((view.offset ?? 0) + 1),
    MSG_REGION: where.region,
    TRACE_ON: 'true',
    CONSUME_START_TIME: now.getTime(),
    INSTANCE_ID: trigger.instanceId,
    UNIQ_KEY: view.messageId,
  };
  if (view.keys.length > 0) systemProperties.KEYS = view.keys.join(' ');
  if (view.tag) systemProperties.TAGS = view.tag;
  if (view.messageGroup) systemProperties.__SHARDINGKEY = view.messageGroup;
  const data = {
    topic: view.topic,
    systemProperties,
    userProperties: Object.fromEntries(view.properties),
    // FC delivers the body as text.
    body: view.body.toString('utf8'),
  };
  return {
    id: randomUUID(),
    source: trigger.name,
    specversion: '1.0',
    type: 'mq:Topic:SendMessage',
    datacontenttype: 'application/json; charset=utf-8',
    subject: `acs:mq:${where.region}:${where.accountId}:${trigger.instanceId}%${view.topic}`,
    time: (view.bornTimestamp ?? now).toISOString(),
    aliyunaccountid: where.accountId,
    aliyunpublishtime: now.toISOString(),
    aliyunoriginalaccountid: where.accountId,
    aliyuneventbusname: trigger.name,
    aliyunregionid: where.region,
    aliyunpublishaddr: '127.0.0.1',
    data,
  };
}

/** The event FC hands over for a batch: always a JSON array in event-streaming mode. */
export function triggerEvent(
  views: readonly MessageView[],
  trigger: RocketMQTriggerConfig,
  where: { region: string; accountId: string },
): Buffer {
  const events = views.map((view) => toCloudEvent(view, trigger, where));
  return Buffer.from(
    JSON.stringify(trigger.eventSchema === 'RawData' ? events.map((event) => event.data) : events),
  );
}

export async function startTriggerEmulation(options: TriggerEmulationOptions): Promise<TriggerEmulation> {
  const { trigger } = options;
  const { SimpleConsumer: Client } = await import('rocketmq-client-nodejs');
  const consumer: SimpleConsumer = new Client({
    endpoints: options.endpoint,
    namespace: '',
    consumerGroup: trigger.groupId,
    subscriptions: new Map([[trigger.topic, trigger.tag]]),
    awaitDuration: POLL_MS,
    logger: quiet,
  });
  await consumer.startup();
  let running = true;
  let delivered = 0;
  const windowMs = trigger.batchWindowSeconds * 1000;

  const deliver = async (batch: MessageView[]) => {
    const event = triggerEvent(batch, trigger, options);
    let outcome: string | undefined;
    for (let attempt = 0; attempt <= RETRIES && running && outcome === undefined; attempt++) {
      if (attempt > 0) await sleep(options.retryDelayMs ?? 1000);
      try {
        outcome = JSON.stringify(await options.invoke(event));
      } catch (error) {
        options.report(
          `  ✗ ${options.functionName} failed on ${batch.length} message(s) from ${trigger.topic}` +
            ` (attempt ${attempt + 1} of ${RETRIES + 1}): ${(error as Error).message}`,
        );
      }
    }
    delivered++;
    if (outcome === undefined && !trigger.deadLetterArn) {
      options.report(
        `  ⇒ ${options.functionName}: ${batch.length} message(s) stay on ${trigger.topic} (no deadLetterArn); back in ${INVISIBLE_MS / 1000} s`,
      );
      return;
    }
    await Promise.allSettled(batch.map((view) => consumer.ack(view)));
    options.report(
      `  ⇒ ${options.functionName} ← ${batch.length} message(s) from ${trigger.topic}: ${outcome ?? `sent to ${trigger.deadLetterArn}`}`,
    );
  };

  const loop = (async () => {
    let batch: MessageView[] = [];
    let windowStart = 0;
    while (running) {
      try {
        const room = Math.min(RECEIVE_BATCH, trigger.batchSize - batch.length);
        const views = await consumer.receive(room, INVISIBLE_MS);
        if (views.length > 0 && batch.length === 0) windowStart = Date.now();
        batch.push(...views);
      } catch {
        // No message (40401) or the broker going away: try again while running.
        if (running) await sleep(POLL_MS);
      }
      if (batch.length > 0 && (batch.length >= trigger.batchSize || Date.now() - windowStart >= windowMs)) {
        const full = batch;
        batch = [];
        await deliver(full);
      }
    }
  })();

  return {
    trigger,
    get delivered() {
      return delivered;
    },
    async stop() {
      running = false;
      await loop;
      await consumer.shutdown().catch(() => undefined);
    },
  };
}

export interface ConfiguredTriggers {
  readonly emulations: readonly TriggerEmulation[];
  /** One line per trigger for the dev server's banner. */
  readonly descriptions: readonly string[];
  stop(): Promise<void>;
}

/**
 * Starts the emulation of every RocketMQ trigger in infra/fc/config.json, each calling its function's FC
 * entry (initializer first, as FC does); `afterDelivery` runs after each batch (the dev server prints
 * its tail there).
 */
export async function startConfiguredTriggers(options: {
  endpoint: string;
  print: (line: string) => void;
  afterDelivery: () => void;
  retryDelayMs?: number;
  /** Wraps each call of a function (the dev console records it). @default calls it */
  around?: (functionName: string, event: Buffer, call: () => Promise<unknown>) => Promise<unknown>;
}): Promise<ConfiguredTriggers> {
  const { readConfigFile, resolveConfig, triggersOf } = await import('./fc/config.js');
  const { fcContext, loadFunction } = await import('./emulate.js');
  const { config } = resolveConfig(await readConfigFile(), process.env);
  const emulations: TriggerEmulation[] = [];
  const descriptions: string[] = [];
  try {
    for (const [name, fn] of Object.entries(config.functions)) {
      const triggers = triggersOf(fn).filter((t): t is RocketMQTriggerConfig => t.type === 'rocketmq');
      if (triggers.length === 0) continue;
      const module = await loadFunction(name, 'fc');
      const context = fcContext(name, fn.timeout);
      await module.initializer?.(context);
      for (const trigger of triggers) {
        // Unset placeholders resolve to `<NAME>`; the embedded broker has no instance id anyway.
        const instanceId = trigger.instanceId.startsWith('<') ? 'MQ_INST_LOCAL' : trigger.instanceId;
        emulations.push(
          await startTriggerEmulation({
            trigger: { ...trigger, instanceId },
            functionName: name,
            endpoint: options.endpoint,
            region: context.region ?? 'cn-hangzhou',
            accountId: context.accountId ?? '1234567890123456',
            invoke: (event) => {
              const call = () => module.handler(event, fcContext(name, fn.timeout));
              return options.around ? options.around(name, event, call) : call();
            },
            report: (line) => {
              options.print(line);
              options.afterDelivery();
            },
            ...(options.retryDelayMs !== undefined && { retryDelayMs: options.retryDelayMs }),
          }),
        );
        descriptions.push(
          `${name} receives ${trigger.topic} as its RocketMQ trigger does: up to ${trigger.batchSize} messages or ${trigger.batchWindowSeconds} s per batch (${trigger.eventSchema})`,
        );
      }
    }
  } catch (error) {
    await Promise.allSettled(emulations.map((emulation) => emulation.stop()));
    throw error;
  }
  return {
    emulations,
    descriptions,
    async stop() {
      await Promise.allSettled(emulations.map((emulation) => emulation.stop()));
    },
  };
}
