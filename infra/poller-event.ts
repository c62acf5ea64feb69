import { randomUUID } from 'node:crypto';
import type { ScheduledEvent } from 'aws-lambda';
import type { ReceivedMessage } from '../lib/consumer/received.js';
import { getProducer } from '../lib/index.js';
import { fromRocketMQEvent } from '../lib/triggers/rocketmq.js';

/**
 * Lambda has no RocketMQ trigger, so `invoke --platform aws` of a polling function with an FC RocketMQ
 * event sample does what would happen on AWS: the event's messages go to the embedded broker, then the
 * function runs on an EventBridge scheduled event and polls them.
 */

/** The messages of an FC RocketMQ trigger event; `undefined` when the event is something else. */
export function triggerMessages(event: unknown): ReceivedMessage[] | undefined {
  try {
    return fromRocketMQEvent(event as never);
  } catch {
    return undefined;
  }
}

/** Sends each message to its topic as it was sent before (tag, keys, user properties, body). */
export async function publish(messages: readonly ReceivedMessage[]): Promise<void> {
  const producer = getProducer();
  for (const message of messages) {
    await producer.send({
      topic: message.topic,
      ...(message.tag !== undefined && { tag: message.tag }),
      ...(message.keys.length > 0 && { keys: [...message.keys] }),
      properties: { ...message.userProperties },
      body: message.body,
    });
  }
}

/** The event an EventBridge schedule rule named after the function delivers now. */
export function scheduledEvent(functionName: string, now = new Date()): ScheduledEvent {
  const region = process.env.AWS_REGION ?? 'us-east-1';
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '123456789012',
    time: now.toISOString().replace(/\.\d+Z$/, 'Z'),
    region,
    resources: [`arn:aws:events:${region}:123456789012:rule/${functionName}-schedule`],
    detail: {},
  };
}
