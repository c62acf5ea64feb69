import { createHash } from 'node:crypto';
import type { ServerWritableStream } from '@grpc/grpc-js';
import type {
  Message,
  Resource,
  Status,
} from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import type {
  AckMessageRequest,
  AckMessageResponse,
  ChangeInvisibleDurationRequest,
  ChangeInvisibleDurationResponse,
  ForwardMessageToDeadLetterQueueRequest,
  ForwardMessageToDeadLetterQueueResponse,
  ReceiveMessageRequest,
  ReceiveMessageResponse,
} from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import type { ConsumerGroups, Delivery } from './consumer-groups.js';
import { Code, definition, durationOf, millisOf, service, statusOf, timestampOf } from './proto.js';
import { topicNotFound } from './send.js';
import type { MessageStore } from './store.js';
import type { TopicMessageType } from './topics.js';

/** Invisible duration of push-consumer deliveries (they ask for auto-renew instead of a duration). */
const AUTO_RENEW_INVISIBLE_MS = 60_000;
const DEFAULT_LONG_POLLING_MS = 20_000;
/** The empty answer must reach the client before its own deadline cancels the call. */
const DEADLINE_MARGIN_MS = 500;

export interface ReceiveContext {
  readonly topics: ReadonlyMap<string, TopicMessageType>;
  readonly store: MessageStore;
  readonly groups: ConsumerGroups;
  /** `host:port` reported as store host. */
  readonly storeHost: () => string;
  /** Ends a long-poll in progress with an empty answer; used when the broker stops. */
  readonly longPolls: Set<() => void>;
}

type ReceiveCall = ServerWritableStream<ReceiveMessageRequest, ReceiveMessageResponse>;

/** `*` (or nothing) takes every message; otherwise `a || b` lists the tags taken. */
function tagFilter(expression: string): (tag: string | undefined) => boolean {
  const trimmed = expression.trim();
  if (trimmed === '' || trimmed === '*') return () => true;
  const tags = new Set(trimmed.split('||').map((tag) => tag.trim()));
  return (tag) => tag !== undefined && tags.has(tag);
}

function toMessage(delivery: Delivery, storeHost: string): Message {
  const { message, bornHost } = delivery.record;
  const properties = new definition.SystemProperties()
    .setMessageId(message.messageId)
    .setKeysList(message.keys)
    .setBodyDigest(
      new definition.Digest()
        .setType(definition.DigestType.MD5)
        .setChecksum(createHash('md5').update(message.body).digest('hex').toUpperCase()),
    )
    .setBodyEncoding(definition.Encoding.IDENTITY)
    .setMessageType(definition.MessageType[message.type])
    .setBornTimestamp(timestampOf(message.bornTimestamp))
    .setBornHost(bornHost)
    .setStoreTimestamp(timestampOf(message.storeTimestamp))
    .setStoreHost(storeHost)
    .setReceiptHandle(delivery.receiptHandle)
    .setQueueId(message.queueId)
    .setQueueOffset(message.queueOffset)
    .setInvisibleDuration(durationOf(delivery.invisibleMs))
    .setDeliveryAttempt(delivery.attempt);
  if (message.tag !== undefined) properties.setTag(message.tag);
  if (message.messageGroup !== undefined) properties.setMessageGroup(message.messageGroup);
  if (message.deliveryTimestamp !== undefined) {
    properties.setDeliveryTimestamp(timestampOf(message.deliveryTimestamp));
  }
  const result = new definition.Message()
    .setTopic(new definition.Resource().setName(message.topic))
    .setSystemProperties(properties)
    .setBody(message.body);
  const userProperties = result.getUserPropertiesMap();
  for (const [key, value] of Object.entries(message.properties)) userProperties.set(key, value);
  return result;
}

function finish(call: ReceiveCall, status: Status): void {
  call.write(new service.ReceiveMessageResponse().setStatus(status));
  call.end();
}

function invisibleMsOf(request: ReceiveMessageRequest): number | undefined {
  if (request.hasInvisibleDuration()) return millisOf(request.getInvisibleDuration());
  return request.getAutoRenew() ? AUTO_RENEW_INVISIBLE_MS : undefined;
}

function requestError(context: ReceiveContext, request: ReceiveMessageRequest): Status | undefined {
  const topic = request.getMessageQueue()?.getTopic()?.getName() ?? '';
  const invisibleMs = invisibleMsOf(request);
  if (!context.topics.has(topic)) return topicNotFound(topic);
  if (!request.getGroup()?.getName().trim()) {
    return statusOf(Code.ILLEGAL_CONSUMER_GROUP, 'consumer group is required');
  }
  if (request.getFilterExpression()?.getType() === definition.FilterType.SQL) {
    return statusOf(Code.ILLEGAL_FILTER_EXPRESSION, 'SQL92 filters are not supported');
  }
  if (request.getBatchSize() <= 0) return statusOf(Code.BAD_REQUEST, 'batch size must be positive');
  if (invisibleMs === undefined || invisibleMs <= 0) {
    return statusOf(Code.ILLEGAL_INVISIBLE_TIME, 'invisible duration must be positive');
  }
  return undefined;
}

/**
 * Server-streaming ReceiveMessage: frames are status, delivery timestamp, then one per message.
 * When nothing is deliverable it long-polls, woken by the store, and answers 40401 at the end.
 */
export function receiveMessage(context: ReceiveContext, call: ReceiveCall): void {
  const request = call.request;
  const error = requestError(context, request);
  if (error) {
    finish(call, error);
    return;
  }
  const topic = request.getMessageQueue()?.getTopic()?.getName() ?? '';
  const group = request.getGroup()?.getName() ?? '';
  const invisibleMs = invisibleMsOf(request) ?? AUTO_RENEW_INVISIBLE_MS;
  const filter = request.getFilterExpression();
  const accepts = tagFilter(filter?.getExpression() ?? '*');
  const deadline = Number(call.getDeadline());
  const longPollEnd = Math.min(
    Date.now() + (millisOf(request.getLongPollingTimeout()) ?? DEFAULT_LONG_POLLING_MS),
    Number.isFinite(deadline) ? deadline - DEADLINE_MARGIN_MS : Number.POSITIVE_INFINITY,
  );
  let timer: NodeJS.Timeout | undefined;
  let unwatch: (() => void) | undefined;
  const cancel = () => {
    clearTimeout(timer);
    unwatch?.();
    context.longPolls.delete(endNow);
  };
  const endNow = () => {
    cancel();
    if (!call.cancelled) finish(call, statusOf(Code.MESSAGE_NOT_FOUND, 'no new message'));
  };
  const attempt = () => {
    if (call.cancelled) {
      cancel();
      return;
    }
    const now = Date.now();
    const { deliveries, retryAt } = context.groups.receive(
      group,
      topic,
      accepts,
      request.getBatchSize(),
      invisibleMs,
    );
    if (deliveries.length > 0) {
      cancel();
      call.write(new service.ReceiveMessageResponse().setStatus(statusOf(Code.OK)));
      call.write(new service.ReceiveMessageResponse().setDeliveryTimestamp(timestampOf(now)));
      for (const delivery of deliveries) {
        call.write(new service.ReceiveMessageResponse().setMessage(toMessage(delivery, context.storeHost())));
      }
      call.end();
      return;
    }
    if (now >= longPollEnd) {
      endNow();
      return;
    }
    clearTimeout(timer);
    timer = setTimeout(attempt, Math.max(0, Math.min(retryAt, longPollEnd) - now));
    timer.unref();
  };
  context.longPolls.add(endNow);
  unwatch = context.store.watch(topic, attempt);
  call.on('cancelled', cancel);
  attempt();
}

interface GroupTopicRequest {
  getGroup(): Resource | undefined;
  getTopic(): Resource | undefined;
}

function groupAndTopic(request: GroupTopicRequest) {
  return { group: request.getGroup()?.getName() ?? '', topic: request.getTopic()?.getName() ?? '' };
}

const INVALID_HANDLE = 'receipt handle is invalid or expired';

export function ackMessage(context: ReceiveContext, request: AckMessageRequest): AckMessageResponse {
  const { group, topic } = groupAndTopic(request);
  const response = new service.AckMessageResponse();
  let acked = 0;
  for (const entry of request.getEntriesList()) {
    const ok = context.groups.ack(group, topic, entry.getReceiptHandle());
    if (ok) acked++;
    const status = ok ? statusOf(Code.OK) : statusOf(Code.INVALID_RECEIPT_HANDLE, INVALID_HANDLE);
    response.addEntries(
      new service.AckMessageResultEntry()
        .setMessageId(entry.getMessageId())
        .setReceiptHandle(entry.getReceiptHandle())
        .setStatus(status),
    );
  }
  // One outcome for all entries is reported as is; a mix is MULTIPLE_RESULTS, as the proxy does.
  const failed = request.getEntriesList().length - acked;
  if (failed === 0) return response.setStatus(statusOf(Code.OK));
  if (acked === 0) return response.setStatus(statusOf(Code.INVALID_RECEIPT_HANDLE, INVALID_HANDLE));
  return response.setStatus(statusOf(Code.MULTIPLE_RESULTS, `${failed} of the entries failed`));
}

export function changeInvisibleDuration(
  context: ReceiveContext,
  request: ChangeInvisibleDurationRequest,
): ChangeInvisibleDurationResponse {
  const { group, topic } = groupAndTopic(request);
  const response = new service.ChangeInvisibleDurationResponse();
  const invisibleMs = millisOf(request.getInvisibleDuration());
  if (invisibleMs === undefined || invisibleMs < 0) {
    return response.setStatus(
      statusOf(Code.ILLEGAL_INVISIBLE_TIME, 'invisible duration must not be negative'),
    );
  }
  const handle = context.groups.changeInvisibleDuration(
    group,
    topic,
    request.getReceiptHandle(),
    invisibleMs,
  );
  if (handle === undefined) return response.setStatus(statusOf(Code.INVALID_RECEIPT_HANDLE, INVALID_HANDLE));
  return response.setStatus(statusOf(Code.OK)).setReceiptHandle(handle);
}

export function forwardToDeadLetterQueue(
  context: ReceiveContext,
  request: ForwardMessageToDeadLetterQueueRequest,
): ForwardMessageToDeadLetterQueueResponse {
  const { group, topic } = groupAndTopic(request);
  const moved = context.groups.deadLetter(group, topic, request.getReceiptHandle());
  return new service.ForwardMessageToDeadLetterQueueResponse().setStatus(
    moved ? statusOf(Code.OK) : statusOf(Code.INVALID_RECEIPT_HANDLE, INVALID_HANDLE),
  );
}
