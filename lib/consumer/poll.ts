import type { Logger } from '@aws-lambda-powertools/logger';
import type { MessageView } from 'rocketmq-client-nodejs';
import type { ProducerConfigOptions } from '../config.js';
import { ConfigError } from '../errors.js';
import { getLogger } from '../log.js';
import { parseTraceparent } from '../triggers/traceparent.js';
import { BatchFailedError } from './errors.js';
import {
  checkProcessOptions,
  type MessageHandler,
  type MessageOutcome,
  PROCESS_OPTION_NAMES,
  type ProcessOptions,
  type ProcessReport,
  processMessages,
} from './processor.js';

import { ReceivedMessage } from './received.js';
import { acquireConsumer, type ConsumerHandle } from './shared-consumer.js';
import { unpackMessage } from './unpack.js';

/**
 * A pull consumer for scheduled functions (Lambda has no RocketMQ event source; an FC timer works the
 * same way): receive in rounds over the official SimpleConsumer until the deadline minus a margin,
 * process each round with {@link processMessages}, ack what is done, and give each failed message a
 * new invisible duration with backoff so the broker delivers it again later (and, after the group's
 * maximum attempts, dead-letters it). When `pollMessages` returns, every received message is either
 * acked or re-timed (on a broker that answers; one that does not answer in time gets the message back
 * when its receive-time invisible duration ends).
 */

export const POLL_DEFAULTS = Object.freeze({
  tag: '*',
  maxMessages: 1000,
  batchSize: 32,
  /** The proxy refuses less than 10 s (40011). */
  invisibleDurationMs: 30_000,
  awaitDurationMs: 1000,
  idleRounds: 1,
  settleReserveMs: 300,
  backoffBaseMs: 10_000,
  backoffMaxMs: 300_000,
});

export interface PollOptions<R> extends Omit<ProcessOptions, 'deadline'> {
  topic: string;
  consumerGroup: string;
  handler: MessageHandler<R>;
  /** Epoch ms by which the poll returns: usually `invocation.deadline`. */
  deadline: number;
  /** Tag filter. @default '*' */
  tag?: string;
  /** Messages received in this call, at most. @default 1000 */
  maxMessages?: number;
  /** Messages asked for per receive. @default 32 */
  batchSize?: number;
  /** How long a received message stays invisible to the group. @default 30000 */
  invisibleDurationMs?: number;
  /** Long-polling time of one receive; a round starts only with this much time left. @default 1000 */
  awaitDurationMs?: number;
  /** Stop after this many receives in a row came back empty. @default 1 */
  idleRounds?: number;
  /** Time kept before `deadline` for acks and re-timing. @default 300 */
  settleReserveMs?: number;
  /** Redelivery delay of a failed message: base × 2^(attempt − 1), at most the max. @default 10000 / 300000 */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Broker endpoints and credentials. @default from the environment, as for the producer */
  client?: ProducerConfigOptions;
}

export interface PollReport {
  rounds: number;
  received: number;
  processed: number;
  failed: number;
  retried: number;
  deadLettered: number;
  duplicates: number;
  acked: number;
  /** Failed messages given a new invisible duration. */
  retimed: number;
  /** Acks and re-timings that did not succeed in time: those messages come back after their duration. */
  unsettled: number;
}

const POLL_KEYS = new Set([
  'topic',
  'consumerGroup',
  'handler',
  'deadline',
  'tag',
  'maxMessages',
  'batchSize',
  'invisibleDurationMs',
  'awaitDurationMs',
  'idleRounds',
  'settleReserveMs',
  'backoffBaseMs',
  'backoffMaxMs',
  'client',
  ...PROCESS_OPTION_NAMES,
]);

function whole(value: unknown, name: string, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new ConfigError(`pollMessages: ${name} must be a whole number ≥ ${min}`, { field: name });
  }
  return value;
}

function text(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ConfigError(`pollMessages: ${name} must be a non-empty string`, { field: name });
  }
  return value;
}

function resolve<R>(options: PollOptions<R>) {
  if (typeof options !== 'object' || options === null)
    throw new ConfigError('pollMessages: options are required');
  for (const key of Object.keys(options)) {
    if (!POLL_KEYS.has(key)) throw new ConfigError(`pollMessages: unknown option "${key}"`, { field: key });
  }
  if (typeof options.handler !== 'function') {
    throw new ConfigError('pollMessages: handler must be a function', { field: 'handler' });
  }
  if (typeof options.deadline !== 'number' || !Number.isFinite(options.deadline)) {
    throw new ConfigError('pollMessages: deadline (epoch ms) is required', { field: 'deadline' });
  }
  const d = POLL_DEFAULTS;
  return {
    topic: text(options.topic, 'topic'),
    consumerGroup: text(options.consumerGroup, 'consumerGroup'),
    tag: text(options.tag ?? d.tag, 'tag'),
    maxMessages: whole(options.maxMessages ?? d.maxMessages, 'maxMessages', 1),
    batchSize: whole(options.batchSize ?? d.batchSize, 'batchSize', 1),
    invisibleDurationMs: whole(
      options.invisibleDurationMs ?? d.invisibleDurationMs,
      'invisibleDurationMs',
      1,
    ),
    awaitDurationMs: whole(options.awaitDurationMs ?? d.awaitDurationMs, 'awaitDurationMs', 1),
    idleRounds: whole(options.idleRounds ?? d.idleRounds, 'idleRounds', 1),
    settleReserveMs: whole(options.settleReserveMs ?? d.settleReserveMs, 'settleReserveMs', 0),
    backoffBaseMs: whole(options.backoffBaseMs ?? d.backoffBaseMs, 'backoffBaseMs', 1),
    backoffMaxMs: whole(options.backoffMaxMs ?? d.backoffMaxMs, 'backoffMaxMs', 1),
  };
}

/** A received client message as the processor sees it. */
export function fromMessageView(view: MessageView): ReceivedMessage {
  const userProperties = Object.create(null) as Record<string, string>;
  for (const [key, value] of view.properties) userProperties[key] = value;
  const systemProperties = Object.create(null) as Record<string, string | number>;
  systemProperties.BORN_HOST = view.bornHost;
  if (view.offset !== undefined) systemProperties.QUEUE_OFFSET = view.offset;
  return new ReceivedMessage({
    source: 'pull',
    topic: view.topic,
    messageId: view.messageId,
    // The client reports a message without a tag as an empty string.
    tag: view.tag ? view.tag : undefined,
    keys: [...view.keys],
    body: view.body,
    userProperties,
    systemProperties,
    messageGroup: view.messageGroup ? view.messageGroup : undefined,
    deliveryAttempt: view.deliveryAttempt,
    bornTime: view.bornTimestamp?.toISOString(),
    publishTime: undefined,
    traceparent: parseTraceparent(userProperties.traceparent),
  });
}

/** Resolves with `work`'s result, or with `fallback` once `deadline` passes; never rejects past it. */
async function within<T>(work: Promise<T>, deadline: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolveLate) => {
    timer = setTimeout(() => resolveLate(fallback), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

function addReport(total: PollReport, report: ProcessReport<unknown>): void {
  total.processed += report.processed;
  total.failed += report.failed;
  total.retried += report.retried;
  total.deadLettered += report.deadLettered;
  total.duplicates += report.duplicates;
}

/** Whether the record of each outcome is done with, or has to come back; a duplicate follows its first. */
function recordsDone(outcomes: readonly MessageOutcome<unknown>[]): boolean[] {
  const doneById = new Map<string, boolean>();
  return outcomes.map((outcome) => {
    const { messageId, pack } = outcome.message;
    const id = `${messageId ?? ''}#${pack?.index ?? ''}`;
    if (outcome.status === 'duplicate') return doneById.get(id) ?? false;
    const done = outcome.status !== 'failed';
    doneById.set(id, done);
    return done;
  });
}

async function settle(
  consumer: ConsumerHandle,
  views: readonly MessageView[],
  done: readonly boolean[],
  settings: ReturnType<typeof resolve>,
  deadline: number,
  total: PollReport,
  logger: Logger,
): Promise<void> {
  const results = await Promise.all(
    views.map(async (view, index) => {
      const ack = done[index] === true;
      const attempt = view.deliveryAttempt ?? 1;
      const delay = Math.min(settings.backoffMaxMs, settings.backoffBaseMs * 2 ** Math.min(30, attempt - 1));
      const call = ack ? consumer.ack(view) : consumer.changeInvisibleDuration(view, delay);
      const outcome = await within(
        call.then(
          () => (ack ? 'acked' : 'retimed'),
          (error: unknown) => {
            logger.warn({
              message: ack ? 'ack failed' : 'changeInvisibleDuration failed',
              topic: view.topic,
              messageId: view.messageId,
              error: (error as Error).message,
            });
            return 'unsettled';
          },
        ),
        deadline,
        'unsettled',
      );
      return outcome;
    }),
  );
  for (const result of results) {
    if (result === 'acked') total.acked++;
    else if (result === 'retimed') total.retimed++;
    else total.unsettled++;
  }
}

/**
 * Polls `topic` for `consumerGroup` until the deadline (minus a margin), `maxMessages`, or
 * `idleRounds` empty receives, and processes what arrives. Failed messages are handled by
 * `failurePolicy`: with `'throw'` (the default here) they are re-timed for a later redelivery; with
 * `'retry-topic'` they are forwarded and acked.
 */
export async function pollMessages<R>(options: PollOptions<R>): Promise<PollReport> {
  const settings = resolve(options);
  const { handler, deadline, client } = options;
  const processOptions: ProcessOptions = { deadline, failurePolicy: options.failurePolicy ?? 'throw' };
  for (const name of PROCESS_OPTION_NAMES) {
    if (options[name] !== undefined) Object.assign(processOptions, { [name]: options[name] });
  }
  // Processor options are checked now, before anything is received.
  checkProcessOptions(processOptions);
  const logger = options.logger ?? getLogger();
  const total: PollReport = {
    rounds: 0,
    received: 0,
    processed: 0,
    failed: 0,
    retried: 0,
    deadLettered: 0,
    duplicates: 0,
    acked: 0,
    retimed: 0,
    unsettled: 0,
  };
  const key = {
    topic: settings.topic,
    consumerGroup: settings.consumerGroup,
    tag: settings.tag,
    awaitDurationMs: settings.awaitDurationMs,
    client,
  };
  let consumer = acquireConsumer(key);
  let replaced = false;
  let idle = 0;
  const workDeadline = deadline - settings.settleReserveMs;
  while (total.received < settings.maxMessages && idle < settings.idleRounds) {
    // A round needs time for a full long poll and some processing after it.
    if (workDeadline - Date.now() < settings.awaitDurationMs + 100) break;
    const count = Math.min(settings.batchSize, settings.maxMessages - total.received);
    let views: MessageView[];
    try {
      const receiving = consumer.receive(count, settings.invisibleDurationMs);
      const late = Symbol('late');
      const answer = await within<MessageView[] | typeof late>(receiving, workDeadline, late);
      if (answer === late) {
        receiving.catch(() => undefined);
        break;
      }
      views = answer;
    } catch (error) {
      // A warm instance's connection may have died while it was frozen: replace the client once.
      if (!replaced && consumer.warm) {
        replaced = true;
        logger.info({
          message: 'receive failed on a warm consumer; replacing it',
          error: (error as Error).message,
        });
        await consumer.discard();
        consumer = acquireConsumer(key);
        continue;
      }
      throw error;
    }
    total.rounds++;
    if (views.length === 0) {
      idle++;
      continue;
    }
    idle = 0;
    total.received += views.length;
    // A pack is processed as its records; its message is acked only when every record is done.
    const records: ReceivedMessage[] = [];
    const viewOf: number[] = [];
    const viewDone = views.map(() => true);
    views.forEach((view, index) => {
      try {
        for (const record of unpackMessage(fromMessageView(view))) {
          records.push(record);
          viewOf.push(index);
        }
      } catch (error) {
        // A corrupt pack never gets better: it comes back until the broker dead-letters it.
        viewDone[index] = false;
        total.failed++;
        logger.warn({
          message: 'message not processed',
          messageId: view.messageId,
          error: (error as Error).message,
        });
      }
    });
    let report: ProcessReport<R>;
    try {
      report = await processMessages(records, handler, { ...processOptions, deadline: workDeadline, logger });
    } catch (error) {
      if (!(error instanceof BatchFailedError)) throw error;
      report = error.report as ProcessReport<R>;
    }
    addReport(total, report as ProcessReport<unknown>);
    recordsDone(report.outcomes).forEach((done, k) => {
      const view = viewOf[k] as number;
      if (!done) viewDone[view] = false;
    });
    await settle(consumer, views, viewDone, settings, deadline, total, logger);
  }
  logger.info({
    message: 'poll finished',
    topic: settings.topic,
    consumerGroup: settings.consumerGroup,
    ...total,
  });
  return total;
}
