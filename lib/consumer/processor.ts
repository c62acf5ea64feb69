import type { Logger } from '@aws-lambda-powertools/logger';
import { ConfigError } from '../errors.js';
import { BatchFailedError } from './errors.js';
import { errorText, forwardFailures, RETRY_PROPERTIES } from './forward.js';
import {
  type MessageHandler,
  type MessageOutcome,
  type ProcessReport,
  type Slot,
  summarise,
} from './outcome.js';
import { type ProcessOptions, resolveProcessOptions } from './process-options.js';
import type { ReceivedMessage } from './received.js';
import { runHandlers } from './run-handlers.js';
import { countOutcomes } from './stats.js';

export { RETRY_PROPERTIES } from './forward.js';
export type {
  HandlerContext,
  MessageHandler,
  MessageOutcome,
  OutcomeStatus,
  ProcessReport,
} from './outcome.js';
export {
  checkProcessOptions,
  type FailurePolicy,
  PROCESS_DEFAULTS,
  PROCESS_OPTION_NAMES,
  type ProcessOptions,
} from './process-options.js';

/**
 * Runs a per-message handler over a batch of received messages and reports one outcome per message.
 *
 * - Order: messages start in batch order; with `concurrency` > 1 up to that many run at once, but the
 *   messages of one FIFO message group always run one after another, and after a failure the rest of
 *   that group is not run (it fails with it, so the group's order survives the retry).
 * - Deadline: nothing starts after the handler deadline (the deadline minus the time reserved for
 *   forwarding), and a handler still running then is abandoned with TIMEOUT; its `signal` aborts.
 * - Duplicates: a message id seen earlier in the same batch (redeliveries, at-least-once sources) runs
 *   once; the copy's outcome is `duplicate`.
 * - Failures, by `failurePolicy`:
 *   - `'throw'`: any failure throws {@link BatchFailedError} after the batch; the platform delivers the
 *     whole batch again (FC retries the event; the pull consumer lets the messages come back).
 *   - `'retry-topic'`: each failed message is sent (sync) to `retryTopic` with its attempt count and the
 *     error in properties; once `maxAttempts` is reached, to `deadLetterTopic`. The batch then counts as
 *     handled; only a forward that fails throws.
 *
 * The steps are modules of their own: options (`process-options.ts`), running the handlers
 * (`run-handlers.ts`), forwarding failures (`forward.ts`).
 */

/** Attempts already made, as the retry topic's counter says; 0 for a message that never failed. */
function previousAttempts(message: ReceivedMessage): number {
  const raw = message.userProperties[RETRY_PROPERTIES.attempt];
  const count = raw === undefined ? 0 : Number(raw);
  return Number.isSafeInteger(count) && count > 0 ? count : 0;
}

/** Identity within a batch: the message id, and the record's place when it came from a pack. */
function identity(message: ReceivedMessage): string | undefined {
  if (message.messageId === undefined) return undefined;
  return message.pack ? `${message.messageId}#${message.pack.index}` : message.messageId;
}

function logReport<R>(report: ProcessReport<R>, logger: Logger): void {
  const { processed, failed, retried, deadLettered, duplicates } = report;
  for (const outcome of report.outcomes) {
    if (outcome.status === 'processed' || outcome.status === 'duplicate') continue;
    const line = {
      message: `message ${outcome.status}`,
      topic: outcome.message.topic,
      messageId: outcome.message.messageId,
      attempt: outcome.attempt,
      error: errorText(outcome.error),
      forwardedTo: outcome.forwardedTo,
    };
    if (outcome.status === 'retried') logger.info(line);
    else logger.warn(line);
  }
  logger.info({ message: 'batch processed', processed, failed, retried, deadLettered, duplicates });
}

/**
 * Processes a batch: one {@link MessageOutcome} per message, in batch order. Resolves with the report
 * when the batch counts as handled, else throws {@link BatchFailedError} carrying it (see above).
 */
export async function processMessages<R>(
  messages: readonly ReceivedMessage[],
  handler: MessageHandler<R>,
  options: ProcessOptions,
): Promise<ProcessReport<R>> {
  const resolved = resolveProcessOptions(options, Date.now());
  if (typeof handler !== 'function') throw new ConfigError('processMessages: handler must be a function');
  const seen = new Map<string, Slot<R>>();
  const slots: Slot<R>[] = [];
  const outcomes: Array<MessageOutcome<R> | Slot<R>> = [];
  for (const message of messages) {
    const id = identity(message);
    if (id !== undefined && seen.has(id)) {
      outcomes.push({ message, status: 'duplicate', attempt: (seen.get(id) as Slot<R>).attempt });
      continue;
    }
    const slot: Slot<R> = { message, attempt: previousAttempts(message) + 1 };
    if (id !== undefined) seen.set(id, slot);
    slots.push(slot);
    outcomes.push(slot);
  }
  await runHandlers(slots, handler, resolved);
  if (resolved.policy === 'retry-topic') await forwardFailures(slots, resolved);
  const report = summarise(
    outcomes.map((entry) => ('status' in entry ? entry : (entry.outcome as MessageOutcome<R>))),
  );
  countOutcomes(report);
  logReport(report, resolved.logger);
  if (report.failed > 0) {
    const first = report.outcomes.find((outcome) => outcome.status === 'failed');
    throw new BatchFailedError(
      resolved.policy === 'throw'
        ? `${report.failed} of ${messages.length} messages failed; the batch must be delivered again`
        : `${report.failed} of ${messages.length} failed messages could not be forwarded`,
      report,
      first?.error,
    );
  }
  return report;
}
