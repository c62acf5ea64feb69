import type { Invocation } from 'rocketmq-serverless';
import { ErrorCode, type Message, RocketMQError, validateMessage } from 'rocketmq-serverless';
import { fromObjectEvent, type ObjectEvent } from 'rocketmq-serverless/triggers';
import { topics } from '../topics.js';

export interface FanoutResult {
  sent: number;
  failed: number;
  spooled: number;
  /** Records of earlier invocations this instance spooled and now delivered (with a spool only). */
  redelivered?: number;
}

/** Message keys are space-separated on the broker, so whitespace inside an object key is escaped. */
export function messageKey(object: ObjectEvent): string {
  return `${object.bucket}/${object.key}`.replace(/\s/g, (c) => encodeURIComponent(c));
}

export function toMessage(object: ObjectEvent): Message {
  return { topic: topics.objectEvents, tag: object.eventType, keys: [messageKey(object)], body: object };
}

/**
 * One message per object with **async** sends, all drained before returning. Every message is
 * validated before the first send, so a bad record fails the event with nothing sent. Failed sends
 * are spooled when a spool is configured; otherwise the handler fails so the platform retries the event.
 */
export async function fanOutObjects(event: unknown, invocation: Invocation): Promise<FanoutResult> {
  const messages = fromObjectEvent(event as Parameters<typeof fromObjectEvent>[0]).map(toMessage);
  for (const message of messages) validateMessage(message);
  const result: FanoutResult = { sent: 0, failed: 0, spooled: 0 };
  let lastError: RocketMQError | undefined;
  for (const message of messages) {
    invocation.producer.sendAsync(
      message,
      {
        onSuccess: () => {
          result.sent++;
        },
        onException: ({ exception, spooled }) => {
          result.failed++;
          if (spooled) result.spooled++;
          lastError = exception;
        },
      },
      { deadline: invocation.deadline },
    );
  }
  await invocation.drain();
  // The spool is this instance's /tmp: while the broker answers, resend what earlier invocations left.
  if (invocation.producer.spool && result.failed === 0) {
    const report = await invocation.producer.redeliverSpool({ deadline: invocation.deadline });
    result.redelivered = report.delivered;
  }
  invocation.logger.info({ message: 'objects fanned out', ...result });
  if (result.failed > result.spooled) {
    throw new RocketMQError(
      lastError?.code ?? ErrorCode.UNKNOWN,
      `${result.failed - result.spooled} of ${messages.length} object messages were neither sent nor spooled`,
      { cause: lastError, topic: topics.objectEvents },
    );
  }
  return result;
}
