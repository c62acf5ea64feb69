import { ReceivedMessage, type ReceivedSource, type SystemPropertyValue } from '../consumer/received.js';
import { unpackMessages } from '../consumer/unpack.js';
import { ConfigError, ErrorCode, EventError } from '../errors.js';
import {
  describeValue,
  type EventObject,
  emptyDictionary,
  invalidField,
  isEventObject,
  optionalString,
  requireObject,
  requireString,
  requireTimestamp,
} from './fields.js';
import { decodeUtf8, type EventInput, parseJson } from './json.js';
import { parseTraceparent } from './traceparent.js';

/**
 * Events of FC's RocketMQ triggers (delivered through EventBridge) mapped to {@link ReceivedMessage}s.
 * Shapes, as published (aliyun/fc-runtime-go-sdk `events/README_RocketMQ.md`, FC "trigger event
 * format", devsapp/fc3 `docs/zh/yaml/triggers.md`):
 * - CloudEvents schema, one message: `{ id, source, specversion: "1.0", type: "mq:Topic:SendMessage",
 *   subject, time, aliyunpublishtime, …, data: { topic, systemProperties, userProperties, body } }`;
 * - the same in event-streaming mode with batching: a JSON array of such events;
 * - RawData schema: only the `data` objects (one, or an array);
 * - a self-managed Apache RocketMQ source: an array of `{ msgId, topic, systemProperties,
 *   userProperties, body }`.
 * The body is a JSON string: text as the producer sent it (the published samples show `"body":"TEST"`,
 * the Go SDK types it as a string). Nothing documents a base64 form, so bytes that are not UTF-8 do not
 * survive the trip; `bodyEncoding: 'base64'` is for producers that base64-encode on purpose. That
 * includes packs, whose frame lengths are binary: through the trigger a pack arrives intact only if its
 * bytes happen to be valid UTF-8; the pull consumer receives bytes as they are.
 * One malformed message rejects the whole event: FC retries the event as a whole, so acting on part of it
 * would run that part twice.
 */

export const ROCKETMQ_EVENT_DEFAULTS = Object.freeze({
  /** More messages than this is EVENT_INVALID; the trigger's largest batch is 10,000. */
  maxMessages: 10_000,
  bodyEncoding: 'text' as 'text' | 'base64',
});

export interface RocketMQEventOptions {
  /** @default 10000 */
  maxMessages?: number;
  /** How `body` is written in the event: `text` (as FC delivers it) or `base64`. @default 'text' */
  bodyEncoding?: 'text' | 'base64';
}

/** `data` of a CloudEvents event, a RawData event, or one entry of a self-managed source. */
export interface RocketMQEventData {
  msgId?: string;
  topic: string;
  systemProperties?: Record<string, string | number | boolean>;
  userProperties?: Record<string, string>;
  body: string;
}

export interface RocketMQCloudEvent {
  id: string;
  source: string;
  specversion: string;
  type: string;
  datacontenttype?: string;
  subject?: string;
  time?: string;
  aliyunaccountid?: string;
  aliyunpublishtime?: string;
  aliyunoriginalaccountid?: string;
  aliyuneventbusname?: string;
  aliyunregionid?: string;
  aliyunpublishaddr?: string;
  data: RocketMQEventData;
}

export type RocketMQEvent =
  | RocketMQCloudEvent
  | RocketMQEventData
  | Array<RocketMQCloudEvent | RocketMQEventData>;

const KIND = 'RocketMQ event';
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// RocketMQ joins several keys with a space (MessageConst.KEY_SEPARATOR).
const KEY_SEPARATOR = /\s+/;
// The property RocketMQ 5 stores a FIFO message group under.
const MESSAGE_GROUP_PROPERTY = '__SHARDINGKEY';

interface Resolved {
  maxMessages: number;
  bodyEncoding: 'text' | 'base64';
}

function resolveOptions(options: RocketMQEventOptions | undefined): Resolved {
  if (options === undefined) return ROCKETMQ_EVENT_DEFAULTS;
  if (!isEventObject(options)) throw new ConfigError('fromRocketMQEvent: options must be an object');
  for (const key of Object.keys(options)) {
    if (!Object.hasOwn(ROCKETMQ_EVENT_DEFAULTS, key)) {
      throw new ConfigError(`fromRocketMQEvent: unknown option "${key}"; known: maxMessages, bodyEncoding`, {
        field: key,
      });
    }
  }
  const maxMessages: unknown = options.maxMessages ?? ROCKETMQ_EVENT_DEFAULTS.maxMessages;
  if (typeof maxMessages !== 'number' || !Number.isSafeInteger(maxMessages) || maxMessages < 1) {
    throw new ConfigError('fromRocketMQEvent: maxMessages must be a whole number ≥ 1', {
      field: 'maxMessages',
    });
  }
  const bodyEncoding = options.bodyEncoding ?? ROCKETMQ_EVENT_DEFAULTS.bodyEncoding;
  if (bodyEncoding !== 'text' && bodyEncoding !== 'base64') {
    throw new ConfigError('fromRocketMQEvent: bodyEncoding must be "text" or "base64"', {
      field: 'bodyEncoding',
    });
  }
  return { maxMessages, bodyEncoding };
}

function invalidEvent(problem: string, cause?: unknown): EventError {
  return new EventError(ErrorCode.EVENT_INVALID, `${KIND}: ${problem}`, { cause });
}

/** The event as parsed JSON: an object or an array, from a Buffer, a string or the value itself. */
function decode(event: unknown): unknown {
  if (!(event instanceof Uint8Array) && typeof event !== 'string') return event;
  const text = typeof event === 'string' ? event : decodeUtf8(event);
  if (text === undefined) throw invalidEvent('the event bytes are not valid UTF-8');
  try {
    return parseJson(text);
  } catch (error) {
    throw invalidEvent(`the event is not valid JSON: ${(error as Error).message}`, error);
  }
}

type Shape = 'cloudevent' | 'rawdata' | 'apache';

function shapeOf(value: unknown, field: string): Shape {
  const entry = requireObject(value, KIND, field);
  if (entry.specversion !== undefined || entry.data !== undefined) return 'cloudevent';
  if (entry.msgId !== undefined) return 'apache';
  if (entry.topic !== undefined) return 'rawdata';
  throw invalidField(
    KIND,
    field,
    'is neither a CloudEvents event (specversion, data), a RawData message (topic, body) nor a self-managed RocketMQ message (msgId)',
  );
}

function systemProperties(value: unknown, field: string): Record<string, SystemPropertyValue> {
  const result = Object.create(null) as Record<string, SystemPropertyValue>;
  if (value === undefined || value === null) return result;
  const object = requireObject(value, KIND, field);
  for (const [key, entry] of Object.entries(object)) {
    if (typeof entry === 'string' || typeof entry === 'boolean') result[key] = entry;
    else if (typeof entry === 'number' && Number.isFinite(entry)) result[key] = entry;
    else if (entry !== null)
      throw invalidField(KIND, `${field}.${key}`, `must be a string or number, got ${describeValue(entry)}`);
  }
  return result;
}

/** User properties are strings on the broker; a number or boolean written by a tool is read as its text. */
function userProperties(value: unknown, field: string): Record<string, string> {
  const result = emptyDictionary();
  if (value === undefined || value === null) return result;
  const object = requireObject(value, KIND, field);
  for (const [key, entry] of Object.entries(object)) {
    if (typeof entry === 'string') result[key] = entry;
    else if (typeof entry === 'boolean' || (typeof entry === 'number' && Number.isFinite(entry)))
      result[key] = String(entry);
    else if (entry !== null)
      throw invalidField(KIND, `${field}.${key}`, `must be a string, got ${describeValue(entry)}`);
  }
  return result;
}

function propertyText(value: SystemPropertyValue | undefined): string | undefined {
  if (value === undefined) return undefined;
  const text = String(value).trim();
  return text === '' ? undefined : text;
}

function body(value: unknown, encoding: Resolved['bodyEncoding'], field: string): Uint8Array {
  if (typeof value !== 'string')
    throw invalidField(KIND, field, `must be a string, got ${describeValue(value)}`);
  if (encoding === 'text') return Buffer.from(value, 'utf8');
  if (!BASE64.test(value)) throw invalidField(KIND, field, 'must be base64 (bodyEncoding is "base64")');
  return Buffer.from(value, 'base64');
}

interface Envelope {
  source: ReceivedSource;
  eventId?: string;
  bornTime?: string;
  publishTime?: string;
}

function toMessage(data: EventObject, envelope: Envelope, options: Resolved, field: string): ReceivedMessage {
  const topic = requireString(data.topic, KIND, `${field}.topic`);
  const system = systemProperties(data.systemProperties, `${field}.systemProperties`);
  const user = userProperties(data.userProperties, `${field}.userProperties`);
  const msgId = optionalString(data.msgId, KIND, `${field}.msgId`);
  const keys = propertyText(system.KEYS);
  return new ReceivedMessage({
    source: envelope.source,
    topic,
    messageId: msgId ?? propertyText(system.UNIQ_KEY) ?? envelope.eventId,
    tag: propertyText(system.TAGS),
    keys: keys === undefined ? [] : keys.split(KEY_SEPARATOR),
    body: body(data.body, options.bodyEncoding, `${field}.body`),
    userProperties: user,
    systemProperties: system,
    messageGroup: propertyText(system[MESSAGE_GROUP_PROPERTY]),
    // The trigger events carry no delivery count: FC retries the event as a whole.
    deliveryAttempt: undefined,
    bornTime: envelope.bornTime,
    publishTime: envelope.publishTime,
    traceparent: parseTraceparent(user.traceparent),
  });
}

function optionalTimestamp(value: unknown, field: string): string | undefined {
  return value === undefined || value === null || value === ''
    ? undefined
    : requireTimestamp(value, KIND, field);
}

function fromCloudEvent(event: EventObject, options: Resolved, field: string): ReceivedMessage {
  if (event.specversion !== '1.0') throw invalidField(KIND, `${field}.specversion`, 'must be "1.0"');
  const envelope: Envelope = {
    source: 'fc-rocketmq',
    eventId: requireString(event.id, KIND, `${field}.id`),
  };
  requireString(event.source, KIND, `${field}.source`);
  requireString(event.type, KIND, `${field}.type`);
  const bornTime = optionalTimestamp(event.time, `${field}.time`);
  const publishTime = optionalTimestamp(event.aliyunpublishtime, `${field}.aliyunpublishtime`);
  if (bornTime !== undefined) envelope.bornTime = bornTime;
  if (publishTime !== undefined) envelope.publishTime = publishTime;
  const data = requireObject(event.data, KIND, `${field}.data`);
  if (data.msgId !== undefined) envelope.source = 'fc-apache-rocketmq';
  return toMessage(data, envelope, options, `${field}.data`);
}

function fromEntry(entry: unknown, shape: Shape, options: Resolved, field: string): ReceivedMessage {
  const object = requireObject(entry, KIND, field);
  if (shape === 'cloudevent') return fromCloudEvent(object, options, field);
  return toMessage(
    object,
    { source: shape === 'apache' ? 'fc-apache-rocketmq' : 'fc-rocketmq' },
    options,
    field,
  );
}

/**
 * Maps an FC RocketMQ trigger event (a Buffer or string of JSON as FC hands it over, or the parsed value)
 * to its messages, in delivery order. Every shape listed above is accepted, single or batched; the
 * entries of one batch must share one shape. A pack (lib/pack.ts) comes back as its records, each with
 * `pack` set; a corrupt pack is an EventError like any other broken entry.
 */
export function fromRocketMQEvent(
  event: EventInput<RocketMQEvent>,
  options?: RocketMQEventOptions,
): ReceivedMessage[] {
  const resolved = resolveOptions(options);
  const decoded = decode(event);
  if (!Array.isArray(decoded)) {
    if (!isEventObject(decoded))
      throw invalidEvent(`the event must be a JSON object or array, got ${describeValue(decoded)}`);
    return unpackMessages([fromEntry(decoded, shapeOf(decoded, 'event'), resolved, 'event')]);
  }
  if (decoded.length === 0) throw invalidEvent('the event is an empty array');
  if (decoded.length > resolved.maxMessages) {
    throw invalidEvent(
      `the event holds ${decoded.length} messages, more than maxMessages (${resolved.maxMessages})`,
    );
  }
  const shape = shapeOf(decoded[0], 'event[0]');
  // An index loop, not map(): a sparse array's holes must fail as missing entries, not vanish.
  const messages: ReceivedMessage[] = [];
  for (let index = 0; index < decoded.length; index++) {
    const field = `event[${index}]`;
    const entry: unknown = decoded[index];
    if (index > 0 && shapeOf(entry, field) !== shape) {
      throw invalidField(KIND, field, `has another shape than event[0] (${shape}); one batch has one schema`);
    }
    messages.push(fromEntry(entry, shape, resolved, field));
  }
  return unpackMessages(messages);
}
