import { hostname } from 'node:os';
import type { PreparedMessage } from '../../message.js';
import type { TransportReceipt } from '../types.js';
import {
  Code,
  Encoding,
  int64ToNumber,
  MessageType,
  SendMessageRequestType,
  type SendMessageResponseObject,
  SendMessageResponseType,
} from './proto.js';
import type { PublishingQueue, PublishingRoute } from './route.js';
import { checkStatus, notSent } from './status.js';

/**
 * One message in one SendMessage call: the queue it goes to, the request as the official client
 * encodes it, and the receipt from the answer.
 */

const BORN_HOST = hostname();

function messageTypeOf(message: PreparedMessage): number {
  if (message.messageGroup) return MessageType.FIFO;
  if (message.deliveryTimestamp) return MessageType.DELAY;
  return MessageType.NORMAL;
}

function timestamp(epochMs: number): { seconds: number; nanos: number } {
  const seconds = Math.floor(epochMs / 1000);
  return { seconds, nanos: (epochMs - seconds * 1000) * 1e6 };
}

/**
 * The queue of `route` for `message` (by message group, else round robin); refused before sending when
 * the topic does not accept the message's type, as the proxy's `validate_message_type` would.
 */
export function queueFor(route: PublishingRoute, message: PreparedMessage): PublishingQueue {
  const queue = message.messageGroup ? route.byMessageGroup(message.messageGroup) : route.next();
  const type = messageTypeOf(message);
  if (!queue.acceptMessageTypes.includes(type)) {
    throw notSent(
      new TypeError(
        `Current message type not match with topic accept message types, topic=${message.topic}, ` +
          `actualMessageType=${type}, acceptMessageTypes=${JSON.stringify(queue.acceptMessageTypes)}`,
      ),
    );
  }
  return queue;
}

export interface SendRequest {
  message: PreparedMessage;
  queue: PublishingQueue;
  messageId: string;
  namespace: string;
  /** Epoch milliseconds of the attempt: the message's born timestamp. */
  now: number;
}

export function encodeSendRequest({ message, queue, messageId, namespace, now }: SendRequest): Uint8Array {
  const systemProperties: Record<string, unknown> = {
    keys: message.keys,
    messageId,
    bornTimestamp: timestamp(now),
    bornHost: BORN_HOST,
    bodyEncoding: Encoding.IDENTITY,
    queueId: queue.queue.id ?? 0,
    messageType: messageTypeOf(message),
  };
  if (message.tag) systemProperties.tag = message.tag;
  if (message.deliveryTimestamp) systemProperties.deliveryTimestamp = timestamp(message.deliveryTimestamp);
  if (message.messageGroup) systemProperties.messageGroup = message.messageGroup;
  return SendMessageRequestType.encode({
    messages: [
      {
        topic: { name: message.topic, resourceNamespace: namespace },
        userProperties: message.properties,
        systemProperties,
        body: message.body,
      },
    ],
  }).finish();
}

/** The receipt of the one message sent to `topic`, or the broker's verdict as an error. */
export function decodeSendAnswer(answer: Buffer, topic: string): TransportReceipt {
  const response = SendMessageResponseType.decode(answer) as unknown as SendMessageResponseObject;
  const entries = response.entries ?? [];
  const failed = entries.find((entry) => entry.status?.code !== Code.OK);
  checkStatus(failed ? failed.status : response.status);
  const first = entries[0];
  if (!first) throw new Error(`the broker accepted the send to ${topic} but returned no result entry`);
  return { messageId: first.messageId ?? '', offset: int64ToNumber(first.offset) };
}
