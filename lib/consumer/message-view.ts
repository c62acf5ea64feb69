import type { MessageView } from 'rocketmq-client-nodejs';
import { parseTraceparent } from '../triggers/traceparent.js';
import { ReceivedMessage } from './received.js';

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
