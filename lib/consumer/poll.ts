import type { Logger } from '@aws-lambda-powertools/logger';
import type { MessageView } from 'rocketmq-client-nodejs';
import { getLogger } from '../log.js';
import { BatchFailedError } from './errors.js';
import { fromMessageView } from './message-view.js';
import type { ProcessReport } from './outcome.js';
import { type PollOptions, resolvePollOptions } from './poll-options.js';
import { checkProcessOptions, PROCESS_OPTION_NAMES, type ProcessOptions } from './process-options.js';
import { processMessages } from './processor.js';
import type { ReceivedMessage } from './received.js';
import { recordsDone, settle, within } from './settle.js';
import { acquireConsumer } from './shared-consumer.js';
import { unpackMessage } from './unpack.js';

export { fromMessageView } from './message-view.js';
export { POLL_DEFAULTS, type PollOptions } from './poll-options.js';

/**
 * A pull consumer for scheduled functions (Lambda has no RocketMQ event source; an FC timer works the
 * same way): receive in rounds over the official SimpleConsumer until the deadline minus a margin,
 * process each round with {@link processMessages}, ack what is done, and give each failed message a
 * new invisible duration with backoff so the broker delivers it again later (and, after the group's
 * maximum attempts, dead-letters it). When `pollMessages` returns, every received message is either
 * acked or re-timed (on a broker that answers; one that does not answer in time gets the message back
 * when its receive-time invisible duration ends).
 */

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

function addReport(total: PollReport, report: ProcessReport<unknown>): void {
  total.processed += report.processed;
  total.failed += report.failed;
  total.retried += report.retried;
  total.deadLettered += report.deadLettered;
  total.duplicates += report.duplicates;
}

/**
 * A round's messages as records: a pack is processed as its records, and its message is done only when
 * every record is. `viewOf[k]` is the message record `k` came from; `viewDone` starts true for each
 * message, false for one that could not be unpacked.
 */
function unpackRound(views: readonly MessageView[], total: PollReport, logger: Logger) {
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
  return { records, viewOf, viewDone };
}

/**
 * Polls `topic` for `consumerGroup` until the deadline (minus a margin), `maxMessages`, or
 * `idleRounds` empty receives, and processes what arrives. Failed messages are handled by
 * `failurePolicy`: with `'throw'` (the default here) they are re-timed for a later redelivery; with
 * `'retry-topic'` they are forwarded and acked.
 */
export async function pollMessages<R>(options: PollOptions<R>): Promise<PollReport> {
  const settings = resolvePollOptions(options);
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
    const { records, viewOf, viewDone } = unpackRound(views, total, logger);
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
    const settled = await settle(consumer, views, viewDone, settings, deadline, logger);
    total.acked += settled.acked;
    total.retimed += settled.retimed;
    total.unsettled += settled.unsettled;
  }
  logger.info({
    message: 'poll finished',
    topic: settings.topic,
    consumerGroup: settings.consumerGroup,
    ...total,
  });
  return total;
}
