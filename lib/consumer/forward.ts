import { ErrorCode, isRocketMQError, RocketMQError } from '../errors.js';
import type { Message } from '../message.js';
import { runWithTraceparent } from '../trace-context.js';
import type { MessageOutcome, Slot } from './outcome.js';
import type { ResolvedProcessOptions } from './process-options.js';

/**
 * The `'retry-topic'` policy's second half: each failed message is sent on (sync) to the retry topic
 * with its attempt count and the error in properties, or, once `maxAttempts` is reached, to the dead-letter
 * topic. A message whose forward fails stays failed: the batch has to come back, or it is lost.
 */

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

const MAX_ERROR_TEXT = 1024;

/** An error as one line of at most 1 KiB, for a property or a log line. */
export function errorText(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT - 1)}…` : text;
}

/**
 * The message a failed one becomes on `topic`: the same body, tag, keys and group, its properties plus
 * the retry counters. The original topic and message id survive any number of rounds through the retry topic.
 */
export function forwardMessage(slot: Slot<unknown>, topic: string, attempts: number): Message {
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
export async function forwardFailures<R>(slots: Slot<R>[], options: ResolvedProcessOptions): Promise<void> {
  const failed = slots.filter((slot) => slot.outcome?.status === 'failed');
  if (failed.length === 0) return;
  const producer = options.producer();
  await Promise.all(
    failed.map(async (slot) => {
      // A message that never ran has not used up an attempt.
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
