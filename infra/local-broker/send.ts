import type { Message, Status } from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import type {
  EndTransactionRequest,
  EndTransactionResponse,
  RecallMessageRequest,
  RecallMessageResponse,
  SendMessageRequest,
  SendMessageResponse,
  SendResultEntry,
} from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import { createMessageId } from './message-id.js';
import { Code, definition, millisOf, service, statusOf } from './proto.js';
import type { MessageInput, MessageStore, StoredMessage } from './store.js';
import { TOPIC_NAME_PATTERN, type TopicMessageType } from './topics.js';

/**
 * How a SendMessage carrying several messages is answered. `single`: one entry for the whole
 * request, carrying the first message's id, which is what an Apache RocketMQ 5 proxy does.
 * `per-message`: one entry per message, in request order.
 */
export type BatchReply = 'single' | 'per-message';

export interface SendContext {
  readonly topics: ReadonlyMap<string, TopicMessageType>;
  readonly store: MessageStore;
  readonly maxBodySize: number;
  readonly batchReply: BatchReply;
}

type StoredType = StoredMessage['type'];

const TYPE_NAMES = new Map<number, string>(
  Object.entries(definition.MessageType).map(([name, value]) => [value as number, name]),
);

export function topicNotFound(topic: string): Status {
  return statusOf(Code.TOPIC_NOT_FOUND, `No topic route info in name server for the topic: ${topic}`);
}

export function acceptedTypes(topicType: TopicMessageType): StoredType[] {
  return topicType === 'MIXED' ? ['NORMAL', 'FIFO', 'DELAY', 'TRANSACTION'] : [topicType];
}

function messageTypeOf(message: Message): string {
  const properties = message.getSystemProperties();
  const declared = properties?.getMessageType() ?? definition.MessageType.MESSAGE_TYPE_UNSPECIFIED;
  if (declared !== definition.MessageType.MESSAGE_TYPE_UNSPECIFIED)
    return TYPE_NAMES.get(declared) ?? 'UNKNOWN';
  if (properties?.hasMessageGroup()) return 'FIFO';
  return properties?.hasDeliveryTimestamp() ? 'DELAY' : 'NORMAL';
}

/** Validates one message the way the proxy does and returns what to store, or the status to answer. */
function toInput(message: Message, context: SendContext): MessageInput | Status {
  const topic = message.getTopic()?.getName() ?? '';
  if (!TOPIC_NAME_PATTERN.test(topic))
    return statusOf(Code.ILLEGAL_TOPIC, `topic name "${topic}" is illegal`);
  const topicType = context.topics.get(topic);
  if (!topicType) return topicNotFound(topic);
  const properties = message.getSystemProperties();
  if (!properties) return statusOf(Code.BAD_REQUEST, 'message has no system properties');
  const messageId = properties.getMessageId();
  if (messageId.trim() === '') return statusOf(Code.ILLEGAL_MESSAGE_ID, 'message id cannot be empty');
  const tag = properties.hasTag() ? properties.getTag() : undefined;
  if (tag !== undefined && (tag.trim() === '' || tag.includes('||'))) {
    return statusOf(
      Code.ILLEGAL_MESSAGE_TAG,
      `tag "${tag}" is illegal: it must not be blank or contain "||"`,
    );
  }
  // A right-sized copy: a pooled Buffer would keep a whole 8 KiB pool slab alive per stored body.
  const bytes = message.getBody_asU8();
  const body = Buffer.allocUnsafeSlow(bytes.length);
  body.set(bytes);
  if (body.length > context.maxBodySize) {
    return statusOf(
      Code.MESSAGE_BODY_TOO_LARGE,
      `message body size ${body.length} exceeds the limit of ${context.maxBodySize} bytes`,
    );
  }
  const type = messageTypeOf(message);
  const messageGroup = properties.hasMessageGroup() ? properties.getMessageGroup() : undefined;
  if (type === 'FIFO' && !messageGroup?.trim()) {
    return statusOf(Code.ILLEGAL_MESSAGE_GROUP, 'FIFO message requires a message group');
  }
  const deliveryTimestamp = millisOf(properties.getDeliveryTimestamp());
  if (type === 'DELAY' && deliveryTimestamp === undefined) {
    return statusOf(Code.ILLEGAL_DELIVERY_TIME, 'delay message requires a delivery timestamp');
  }
  const accepted = acceptedTypes(topicType);
  if (!accepted.includes(type as StoredType)) {
    return statusOf(
      Code.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE,
      `TopicMessageType validate failed, the expected type is ${topicType}, but actual type is ${type}`,
    );
  }
  return {
    topic,
    messageId,
    type: type as StoredType,
    tag,
    keys: properties.getKeysList(),
    properties: Object.fromEntries(message.getUserPropertiesMap().getEntryList() as [string, string][]),
    body,
    messageGroup,
    deliveryTimestamp,
    bornTimestamp: millisOf(properties.getBornTimestamp()) ?? Date.now(),
    bornHost: properties.getBornHost(),
  };
}

function resultEntry(messageId: string, transactionId: string, offset: number, recallHandle: string) {
  return new service.SendResultEntry()
    .setStatus(statusOf(Code.OK))
    .setMessageId(messageId)
    .setTransactionId(transactionId)
    .setOffset(offset)
    .setRecallHandle(recallHandle);
}

/** Validates every message first, so a request is either stored whole or rejected whole. */
export function sendMessage(context: SendContext, request: SendMessageRequest): SendMessageResponse {
  const response = new service.SendMessageResponse();
  const messages = request.getMessagesList();
  if (messages.length === 0) return response.setStatus(statusOf(Code.BAD_REQUEST, 'no message to send'));
  const inputs: MessageInput[] = [];
  for (const message of messages) {
    const input = toInput(message, context);
    if (input instanceof definition.Status) return response.setStatus(input);
    inputs.push(input);
  }
  const entries: SendResultEntry[] = inputs.map((input) => {
    if (input.type === 'TRANSACTION') {
      const transactionId = createMessageId();
      context.store.prepare(transactionId, input);
      return resultEntry(input.messageId, transactionId, 0, '');
    }
    const stored = context.store.append(input);
    const recallHandle = stored.type === 'DELAY' ? context.store.recallHandleOf(stored) : '';
    return resultEntry(stored.messageId, '', stored.queueOffset, recallHandle);
  });
  return response
    .setStatus(statusOf(Code.OK))
    .setEntriesList(context.batchReply === 'single' ? entries.slice(0, 1) : entries);
}

export function endTransaction(context: SendContext, request: EndTransactionRequest): EndTransactionResponse {
  const response = new service.EndTransactionResponse();
  const resolution = request.getResolution();
  if (resolution === definition.TransactionResolution.TRANSACTION_RESOLUTION_UNSPECIFIED) {
    return response.setStatus(statusOf(Code.BAD_REQUEST, 'transaction resolution is unspecified'));
  }
  const commit = resolution === definition.TransactionResolution.COMMIT;
  const outcome = context.store.endTransaction(request.getTransactionId(), request.getMessageId(), commit);
  if (outcome === undefined) {
    return response.setStatus(
      statusOf(Code.INVALID_TRANSACTION_ID, `no pending transaction ${request.getTransactionId()}`),
    );
  }
  return response.setStatus(statusOf(Code.OK));
}

export function recallMessage(context: SendContext, request: RecallMessageRequest): RecallMessageResponse {
  const response = new service.RecallMessageResponse();
  const topic = request.getTopic()?.getName() ?? '';
  if (!context.topics.has(topic)) return response.setStatus(topicNotFound(topic));
  const outcome = context.store.recall(topic, request.getRecallHandle());
  if ('reason' in outcome) {
    return response.setStatus(
      statusOf(outcome.malformed ? Code.BAD_REQUEST : Code.NOT_FOUND, outcome.reason),
    );
  }
  return response.setStatus(statusOf(Code.OK)).setMessageId(outcome.messageId);
}
