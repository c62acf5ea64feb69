import type { Logger } from '@aws-lambda-powertools/logger';
import { ConfigError, ErrorCode, isRocketMQError, RocketMQError } from '../errors.js';
import { getLogger } from '../log.js';
import type { Message } from '../message.js';
import type { Producer } from '../producer/producer.js';
import { getProducer } from '../producer/shared.js';
import { runWithTraceparent } from '../trace-context.js';
import { BatchFailedError } from './errors.js';
import type { ReceivedMessage } from './received.js';
import { countOutcomes } from './stats.js';

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
 */

export type FailurePolicy = 'throw' | 'retry-topic';

export type OutcomeStatus = 'processed' | 'failed' | 'retried' | 'dead-lettered' | 'duplicate';

export interface HandlerContext {
  /** This message's attempt: 1 on first processing, counted through the retry topic. */
  attempt: number;
  /** Epoch ms by which the handler must be done. */
  deadline: number;
  /** Aborts when the handler's time is up. */
  signal: AbortSignal;
}

export type MessageHandler<R> = (message: ReceivedMessage, context: HandlerContext) => Promise<R> | R;

export interface MessageOutcome<R> {
  message: ReceivedMessage;
  status: OutcomeStatus;
  attempt: number;
  result?: R;
  error?: unknown;
  /** Where a retried or dead-lettered message went, with the id the broker gave it. */
  forwardedTo?: { topic: string; messageId: string };
}

export interface ProcessReport<R> {
  outcomes: MessageOutcome<R>[];
  processed: number;
  failed: number;
  retried: number;
  deadLettered: number;
  duplicates: number;
}

export interface ProcessOptions {
  /** Epoch ms by which everything, forwarding included, must be done: usually `invocation.deadline`. */
  deadline: number;
  /** Messages handled at once. @default 1 (one after another) */
  concurrency?: number;
  /** @default 'throw' */
  failurePolicy?: FailurePolicy;
  /** `'retry-topic'` only: where failed messages go for another attempt. */
  retryTopic?: string;
  /** `'retry-topic'` only: where messages go after `maxAttempts`. */
  deadLetterTopic?: string;
  /** `'retry-topic'` only: attempts, the first included, before a message is dead-lettered. @default 3 */
  maxAttempts?: number;
  /**
   * `'retry-topic'` only: milliseconds before `deadline` kept for forwarding failed messages.
   * @default a quarter of the time left, at most 1000
   */
  reserveMs?: number;
  /** The producer forwards go through. @default getProducer() */
  producer?: Producer;
  /** @default getLogger() */
  logger?: Logger;
}

/** User properties a forwarded message carries; names use only characters every broker accepts. */
export const RETRY_PROPERTIES = Object.freeze({
  /** Attempts made so far. */
  attempt: 'consume.attempt',
  /** The last failure's message (at most 1 KiB). */
  error: 'consume.error',
  /** The last failure's code, when it had one. */
  errorCode: 'consume.errorCode',
  originalTopic: 'consume.originalTopic',
  originalMessageId: 'consume.originalMessageId',
});

export const PROCESS_DEFAULTS = Object.freeze({
  concurrency: 1,
  failurePolicy: 'throw' as FailurePolicy,
  maxAttempts: 3,
  maxReserveMs: 1000,
});

/** The options of `processMessages` that callers such as `pollMessages` pass through as they are. */
export const PROCESS_OPTION_NAMES = [
  'concurrency',
  'failurePolicy',
  'retryTopic',
  'deadLetterTopic',
  'maxAttempts',
  'reserveMs',
  'producer',
  'logger',
] as const;

const OPTION_KEYS = new Set(['deadline', ...PROCESS_OPTION_NAMES]);
const MAX_ERROR_TEXT = 1024;
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Resolved {
  deadline: number;
  handlerDeadline: number;
  concurrency: number;
  policy: FailurePolicy;
  retryTopic: string;
  deadLetterTopic: string;
  maxAttempts: number;
  producer: () => Producer;
  logger: Logger;
}

function positive(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new ConfigError(`processMessages: ${name} must be a whole number ≥ 1`, { field: name });
  }
  return value;
}

function resolveOptions(options: ProcessOptions, now: number): Resolved {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('processMessages: options with a deadline are required');
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key))
      throw new ConfigError(`processMessages: unknown option "${key}"`, { field: key });
  }
  const { deadline } = options;
  if (typeof deadline !== 'number' || !Number.isFinite(deadline)) {
    throw new ConfigError('processMessages: deadline (epoch ms) is required', { field: 'deadline' });
  }
  const policy = options.failurePolicy ?? PROCESS_DEFAULTS.failurePolicy;
  if (policy !== 'throw' && policy !== 'retry-topic') {
    throw new ConfigError('processMessages: failurePolicy must be "throw" or "retry-topic"', {
      field: 'failurePolicy',
    });
  }
  let reserveMs = 0;
  if (policy === 'retry-topic') {
    for (const name of ['retryTopic', 'deadLetterTopic'] as const) {
      if (typeof options[name] !== 'string' || options[name] === '') {
        throw new ConfigError(`processMessages: ${name} is required with failurePolicy "retry-topic"`, {
          field: name,
        });
      }
    }
    reserveMs =
      options.reserveMs ?? Math.min(PROCESS_DEFAULTS.maxReserveMs, Math.max(0, (deadline - now) / 4));
    if (typeof reserveMs !== 'number' || !Number.isFinite(reserveMs) || reserveMs < 0) {
      throw new ConfigError('processMessages: reserveMs must be a number ≥ 0', { field: 'reserveMs' });
    }
  }
  const given = options.producer;
  return {
    deadline,
    handlerDeadline: deadline - reserveMs,
    concurrency: positive(options.concurrency ?? PROCESS_DEFAULTS.concurrency, 'concurrency'),
    policy,
    retryTopic: options.retryTopic ?? '',
    deadLetterTopic: options.deadLetterTopic ?? '',
    maxAttempts: positive(options.maxAttempts ?? PROCESS_DEFAULTS.maxAttempts, 'maxAttempts'),
    producer: () => given ?? getProducer(),
    logger: options.logger ?? getLogger(),
  };
}

/** Throws the ConfigError `processMessages` would throw for these options, before any work. */
export function checkProcessOptions(options: ProcessOptions): void {
  resolveOptions(options, Date.now());
}

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

class TimeoutError extends RocketMQError {
  override readonly name: string = 'TimeoutError';
}

function errorText(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT - 1)}…` : text;
}

type RunResult<R> = { ok: true; result: R } | { ok: false; error: unknown };
const LATE = Symbol('late');

/**
 * The batch's handler deadline: one timer and one abort signal for every handler of the batch (they
 * share the deadline), and a promise that settles when it passes.
 */
function deadlineWatch(deadline: number) {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<typeof LATE>((resolve) => {
    timer = setTimeout(
      () => {
        controller.abort(
          new TimeoutError(ErrorCode.TIMEOUT, 'the handler did not finish before the deadline'),
        );
        resolve(LATE);
      },
      // setTimeout fires at once past 2^31 - 1 ms; a deadline that far away is as good as none.
      Math.min(MAX_TIMER_MS, Math.max(0, deadline - Date.now())),
    );
  });
  return { signal: controller.signal, expired, stop: () => clearTimeout(timer) };
}

/** Runs one handler, settled by its own result or by the handler deadline, whichever comes first. */
async function runOne<R>(
  message: ReceivedMessage,
  handler: MessageHandler<R>,
  attempt: number,
  deadline: number,
  watch: ReturnType<typeof deadlineWatch>,
): Promise<RunResult<R>> {
  const run = (async (): Promise<RunResult<R>> => {
    try {
      const result = await runWithTraceparent(message.traceparent, () =>
        handler(message, { attempt, deadline, signal: watch.signal }),
      );
      return { ok: true, result };
    } catch (error) {
      return { ok: false, error };
    }
  })();
  const outcome = await Promise.race([run, watch.expired]);
  if (outcome !== LATE) return outcome;
  return {
    ok: false,
    error: new TimeoutError(ErrorCode.TIMEOUT, 'the handler did not finish before the deadline', {
      topic: message.topic,
      ...(message.messageId !== undefined && { messageId: message.messageId }),
    }),
  };
}

function notStarted(message: ReceivedMessage, why: string): RocketMQError {
  return new TimeoutError(ErrorCode.TIMEOUT, why, {
    topic: message.topic,
    ...(message.messageId !== undefined && { messageId: message.messageId }),
  });
}

interface Slot<R> {
  message: ReceivedMessage;
  attempt: number;
  outcome?: MessageOutcome<R>;
  /** Failed without running (deadline, earlier failure in its group): the attempt is not used up. */
  spared?: boolean;
}

/** Runs the handlers: in order, at most `concurrency` at once, one at a time per message group. */
async function runHandlers<R>(
  slots: Slot<R>[],
  handler: MessageHandler<R>,
  options: Resolved,
): Promise<void> {
  const busyGroups = new Set<string>();
  const failedGroups = new Set<string>();
  const started = new Array<boolean>(slots.length).fill(false);
  // Every slot before `next` has started; a slot after it may have started ahead of a blocked group.
  let next = 0;
  let left = slots.length;
  let running = 0;
  const watch = deadlineWatch(options.handlerDeadline);
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (next < slots.length && started[next]) next++;
      for (let index = next; index < slots.length && running < options.concurrency; index++) {
        if (started[index]) continue;
        const slot = slots[index] as Slot<R>;
        const group = slot.message.messageGroup;
        if (group !== undefined && busyGroups.has(group)) continue;
        started[index] = true;
        left--;
        if (group !== undefined && failedGroups.has(group)) {
          fail(slot, notStarted(slot.message, `an earlier message of group ${group} failed`), true);
          continue;
        }
        if (Date.now() >= options.handlerDeadline) {
          fail(slot, notStarted(slot.message, 'not started: the invocation deadline was reached'), true);
          continue;
        }
        running++;
        if (group !== undefined) busyGroups.add(group);
        void runOne(slot.message, handler, slot.attempt, options.handlerDeadline, watch).then((result) => {
          running--;
          if (group !== undefined) busyGroups.delete(group);
          if (result.ok) {
            slot.outcome = {
              message: slot.message,
              status: 'processed',
              attempt: slot.attempt,
              result: result.result,
            };
          } else {
            fail(slot, result.error, false);
            if (group !== undefined) failedGroups.add(group);
          }
          pump();
        });
      }
      if (running === 0 && left === 0) resolve();
    };
    const fail = (slot: Slot<R>, error: unknown, spared: boolean) => {
      slot.outcome = { message: slot.message, status: 'failed', attempt: slot.attempt, error };
      slot.spared = spared;
    };
    pump();
  });
  watch.stop();
}

function forwardMessage(slot: Slot<ReceivedMessage | unknown>, topic: string, attempts: number): Message {
  const { message } = slot;
  const error = slot.outcome?.error;
  const properties: Record<string, string> = {
    ...message.userProperties,
    [RETRY_PROPERTIES.attempt]: String(attempts),
    [RETRY_PROPERTIES.error]: errorText(error),
    [RETRY_PROPERTIES.originalTopic]: message.userProperties[RETRY_PROPERTIES.originalTopic] ?? message.topic,
  };
  if (isRocketMQError(error)) properties[RETRY_PROPERTIES.errorCode] = error.code;
  else delete properties[RETRY_PROPERTIES.errorCode];
  const originalId = message.userProperties[RETRY_PROPERTIES.originalMessageId] ?? message.messageId;
  if (originalId !== undefined) properties[RETRY_PROPERTIES.originalMessageId] = originalId;
  return {
    topic,
    ...(message.tag && { tag: message.tag }),
    ...(message.keys.length > 0 && { keys: [...message.keys] }),
    ...(message.messageGroup && { messageGroup: message.messageGroup }),
    properties,
    body: message.body,
  };
}

/** Sends each failed message on, all at once, each a sync send bounded by the deadline. */
async function forwardFailures<R>(slots: Slot<R>[], options: Resolved): Promise<void> {
  const failed = slots.filter((slot) => slot.outcome?.status === 'failed');
  if (failed.length === 0) return;
  const producer = options.producer();
  await Promise.all(
    failed.map(async (slot) => {
      const attempts = slot.spared ? slot.attempt - 1 : slot.attempt;
      const deadLetter = attempts >= options.maxAttempts;
      const topic = deadLetter ? options.deadLetterTopic : options.retryTopic;
      const outcome = slot.outcome as MessageOutcome<R>;
      try {
        const sent = await runWithTraceparent(slot.message.traceparent, () =>
          producer.send(forwardMessage(slot as Slot<unknown>, topic, attempts), {
            deadline: options.deadline,
          }),
        );
        outcome.status = deadLetter ? 'dead-lettered' : 'retried';
        outcome.forwardedTo = { topic, messageId: sent.messageId };
      } catch (error) {
        // The message stays failed: the batch has to come back, or it is lost.
        outcome.error = new RocketMQError(
          isRocketMQError(error) ? error.code : ErrorCode.UNKNOWN,
          `could not forward to ${topic}: ${(error as Error).message}`,
          { cause: error, topic },
        );
      }
    }),
  );
}

function summarise<R>(outcomes: MessageOutcome<R>[]): ProcessReport<R> {
  const report: ProcessReport<R> = {
    outcomes,
    processed: 0,
    failed: 0,
    retried: 0,
    deadLettered: 0,
    duplicates: 0,
  };
  for (const { status } of outcomes) {
    if (status === 'processed') report.processed++;
    else if (status === 'failed') report.failed++;
    else if (status === 'retried') report.retried++;
    else if (status === 'dead-lettered') report.deadLettered++;
    else report.duplicates++;
  }
  return report;
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
  const resolved = resolveOptions(options, Date.now());
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
