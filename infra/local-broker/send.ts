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
import {
  hasControlCharacter,
  PROXY_MAX_MESSAGE_GROUP_SIZE,
  PROXY_MAX_USER_PROPERTIES,
  PROXY_MAX_USER_PROPERTY_BYTES,
  PROXY_SYSTEM_PROPERTY_NAMES,
} from '../../lib/proxy-rules.js';
import { createMessageId } from './message-id.js';
import { Code, definition, millisOf, service, statusOf } from './proto.js';
import type { MessageInput, MessageStore, StoredMessage } from './store.js';
import { TOPIC_NAME_PATTERN, type TopicMessageType } from './topics.js';

/**
 * Which deployment of the Apache RocketMQ 5 proxy the broker answers like. Both store a multi-message
 * SendMessage the same way; they answer it differently (see `sendMessage`).
 */
export type ProxyMode = 'cluster' | 'local';

export interface SendContext {
  readonly topics: ReadonlyMap<string, TopicMessageType>;
  readonly store: MessageStore;
  readonly maxBodySize: number;
  readonly proxyMode: ProxyMode;
  readonly acceptEmptyBody: boolean;
}

type StoredType = StoredMessage['type'];

const TYPE_NAMES = new Map<number, string>(
  Object.entries(definition.MessageType).map(([name, value]) => [value as number, name]),
);

/** Java's `StringUtils.isBlank`: empty or only whitespace. */
function isBlank(value: string): boolean {
  return value.trim() === '';
}

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

/** The proxy's checks of user properties, tag and keys (`SendMessageActivity.buildMessageProperty`). */
function propertyError(
  userProperties: [string, string][],
  tag: string | undefined,
  keys: string[],
): Status | undefined {
  if (userProperties.length > PROXY_MAX_USER_PROPERTIES) {
    return statusOf(
      Code.MESSAGE_PROPERTIES_TOO_LARGE,
      `too many user properties, max is ${PROXY_MAX_USER_PROPERTIES}`,
    );
  }
  let bytes = 0;
  for (const [key, value] of userProperties) {
    if (PROXY_SYSTEM_PROPERTY_NAMES.has(key)) {
      return statusOf(Code.ILLEGAL_MESSAGE_PROPERTY_KEY, `property is used by system: ${key}`);
    }
    if (hasControlCharacter(key)) {
      return statusOf(
        Code.ILLEGAL_MESSAGE_PROPERTY_KEY,
        'the key of property cannot contain control character',
      );
    }
    if (hasControlCharacter(value)) {
      return statusOf(
        Code.ILLEGAL_MESSAGE_PROPERTY_KEY,
        'the value of property cannot contain control character',
      );
    }
    bytes += Buffer.byteLength(key) + Buffer.byteLength(value);
  }
  if (tag !== undefined && tag !== '') {
    if (isBlank(tag))
      return statusOf(Code.ILLEGAL_MESSAGE_TAG, 'tag cannot be the char sequence of whitespace');
    if (tag.includes('|')) return statusOf(Code.ILLEGAL_MESSAGE_TAG, "tag cannot contain '|'");
    if (hasControlCharacter(tag)) {
      return statusOf(Code.ILLEGAL_MESSAGE_TAG, 'tag cannot contain control character');
    }
    bytes += Buffer.byteLength(tag);
  }
  for (const key of keys) {
    if (key === '') continue;
    if (isBlank(key))
      return statusOf(Code.ILLEGAL_MESSAGE_KEY, 'key cannot be the char sequence of whitespace');
    if (hasControlCharacter(key))
      return statusOf(Code.ILLEGAL_MESSAGE_KEY, 'key cannot contain control character');
    bytes += Buffer.byteLength(key);
  }
  if (bytes > PROXY_MAX_USER_PROPERTY_BYTES) {
    return statusOf(
      Code.MESSAGE_PROPERTIES_TOO_LARGE,
      `the total size of user property is too large, max is ${PROXY_MAX_USER_PROPERTY_BYTES}`,
    );
  }
  return undefined;
}

/** The proxy's `SendMessageActivity.validateMessageGroup`: not blank, under 64 bytes, no control character. */
function messageGroupError(group: string): Status | undefined {
  if (isBlank(group)) {
    return statusOf(Code.ILLEGAL_MESSAGE_GROUP, 'message group cannot be the char sequence of whitespace');
  }
  if (Buffer.byteLength(group) >= PROXY_MAX_MESSAGE_GROUP_SIZE) {
    return statusOf(
      Code.ILLEGAL_MESSAGE_GROUP,
      `message group exceed the max size ${PROXY_MAX_MESSAGE_GROUP_SIZE}`,
    );
  }
  if (hasControlCharacter(group)) {
    return statusOf(Code.ILLEGAL_MESSAGE_GROUP, 'message group cannot contain control character');
  }
  return undefined;
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
  const bytes = message.getBody_asU8();
  // The proxy's enableMessageBodyEmptyCheck (on by default since 5.3.2).
  if (bytes.length === 0 && !context.acceptEmptyBody) {
    return statusOf(Code.MESSAGE_BODY_EMPTY, 'message body cannot be empty');
  }
  if (bytes.length > context.maxBodySize) {
    return statusOf(
      Code.MESSAGE_BODY_TOO_LARGE,
      `message body size ${bytes.length} exceeds the limit of ${context.maxBodySize} bytes`,
    );
  }
  const userProperties = message.getUserPropertiesMap().getEntryList() as [string, string][];
  const tag = properties.hasTag() ? properties.getTag() : undefined;
  const keys = properties.getKeysList();
  const invalidProperty = propertyError(userProperties, tag, keys);
  if (invalidProperty) return invalidProperty;
  const messageId = properties.getMessageId();
  if (isBlank(messageId)) return statusOf(Code.ILLEGAL_MESSAGE_ID, 'message id cannot be empty');
  const type = messageTypeOf(message);
  const messageGroup = properties.hasMessageGroup() ? properties.getMessageGroup() : undefined;
  if (messageGroup !== undefined && messageGroup !== '') {
    const invalidGroup = messageGroupError(messageGroup);
    if (invalidGroup) return invalidGroup;
  }
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
  // A right-sized copy: a pooled Buffer would keep a whole 8 KiB pool slab alive per stored body.
  const body = Buffer.allocUnsafeSlow(bytes.length);
  body.set(bytes);
  return {
    topic,
    messageId,
    type: type as StoredType,
    tag: tag === '' ? undefined : tag,
    keys: keys.filter((key) => key !== ''),
    properties: Object.fromEntries(userProperties),
    body,
    messageGroup: messageGroup === '' ? undefined : messageGroup,
    deliveryTimestamp,
    bornTimestamp: millisOf(properties.getBornTimestamp()) ?? Date.now(),
    bornHost: properties.getBornHost(),
  };
}

/**
 * What the broker does with a multi-message SendMessage from the proxy: the proxy sends the FIRST
 * message's properties as the batch header (`ProducerProcessor.buildSendMessageRequestHeader`) and
 * every message is stored with them — its tag, keys, message id (UNIQ_KEY), message group, delivery
 * time, born time and host, and user properties, which win over same-named ones. Bodies stay per
 * message. Measured on a real 5.0.0 proxy, unchanged in 5.3.2 and on the main branch.
 */
function stampFirst(inputs: MessageInput[]): MessageInput[] {
  const [first, ...rest] = inputs;
  if (!first) return inputs;
  return [
    first,
    ...rest.map((input) => ({
      ...input,
      messageId: first.messageId,
      tag: first.tag ?? input.tag,
      keys: first.keys.length > 0 ? [...first.keys] : input.keys,
      properties: { ...input.properties, ...first.properties },
      messageGroup: first.messageGroup ?? input.messageGroup,
      deliveryTimestamp: first.deliveryTimestamp ?? input.deliveryTimestamp,
      bornTimestamp: first.bornTimestamp,
      bornHost: first.bornHost,
    })),
  ];
}

function resultEntry(messageId: string, transactionId: string, offset: number, recallHandle: string) {
  return new service.SendResultEntry()
    .setStatus(statusOf(Code.OK))
    .setMessageId(messageId)
    .setTransactionId(transactionId)
    .setOffset(offset)
    .setRecallHandle(recallHandle);
}

/**
 * Validates every message first, so a request is either stored whole or rejected whole. All messages
 * of one request go to one queue, which the broker picks (round robin, or by message group for a
 * single FIFO message), as the proxy does whatever queue the client named.
 *
 * A request with several messages is stored as `stampFirst` describes and answered with ONE entry:
 * in `cluster` mode its message id is every requested id joined by commas and its offset the queue
 * offset of the first message; in `local` mode its message id is one the proxy makes up (no stored
 * message has it) and its offset is 0.
 */
export function sendMessage(context: SendContext, request: SendMessageRequest): SendMessageResponse {
  const response = new service.SendMessageResponse();
  const messages = request.getMessagesList();
  if (messages.length === 0) {
    return response.setStatus(statusOf(Code.MESSAGE_CORRUPTED, 'no message to send'));
  }
  const requested: MessageInput[] = [];
  for (const message of messages) {
    const input = toInput(message, context);
    if (input instanceof definition.Status) return response.setStatus(input);
    if (input.topic !== requested[0]?.topic && requested.length > 0) {
      return response.setStatus(statusOf(Code.MESSAGE_CORRUPTED, 'topic in message is not same'));
    }
    requested.push(input);
  }
  const inputs = stampFirst(requested);
  const first = inputs[0] as MessageInput;
  const queueId = context.store.selectQueue(
    first.topic,
    inputs.length === 1 && first.type === 'FIFO' ? first.messageGroup : undefined,
  );
  const entries: SendResultEntry[] = inputs.map((input) => {
    if (input.type === 'TRANSACTION') {
      const transactionId = createMessageId();
      context.store.prepare(transactionId, input, queueId);
      return resultEntry(input.messageId, transactionId, 0, '');
    }
    const record = context.store.append(input, queueId);
    const { message: stored } = record;
    const recallHandle = stored.type === 'DELAY' ? context.store.recallHandleOf(record) : '';
    return resultEntry(stored.messageId, '', stored.queueOffset, recallHandle);
  });
  response.setStatus(statusOf(Code.OK));
  const [entry] = entries;
  if (entries.length === 1 || !entry) return response.setEntriesList(entries);
  if (context.proxyMode === 'local') {
    return response.setEntriesList([entry.setMessageId(createMessageId()).setOffset(0)]);
  }
  const ids = requested.map((input) => input.messageId).join(',');
  return response.setEntriesList([entry.setMessageId(ids)]);
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
