import { ErrorCode, MessageValidationError } from './errors.js';
import {
  hasControlCharacter,
  PROXY_MAX_MESSAGE_GROUP_SIZE,
  PROXY_MAX_USER_PROPERTIES,
  PROXY_MAX_USER_PROPERTY_BYTES,
  PROXY_SYSTEM_PROPERTY_NAMES,
} from './proxy-rules.js';

/** What a handler hands to the producer. Exactly one of `messageGroup` and `deliveryTimestamp` may be set. */
export interface Message {
  /** Topic name: letters, digits, `%`, `_` and `-`, at most 127 characters. */
  topic: string;
  /** Tag consumers filter on; not blank, no `|`. */
  tag?: string;
  /** Business keys for lookup and tracing (e.g. `ORDERID_100`); no whitespace inside a key. */
  keys?: string | string[];
  /** User properties; string values only, system property names are reserved. */
  properties?: Record<string, string>;
  /**
   * Payload. Strings are encoded as UTF-8, bytes are sent as they are, anything else is serialized as JSON
   * once and marked with the `content-type: application/json` property.
   */
  body: string | Uint8Array | object;
  /** FIFO topics: messages of one group are delivered in order. */
  messageGroup?: string;
  /** Delay topics: when the message becomes visible, as a Date or epoch milliseconds. */
  deliveryTimestamp?: Date | number;
  /**
   * Send an empty body. Off by default: an Apache RocketMQ proxy in cluster mode rejects it (50001
   * before 5.3.2, 41302 since, in every mode), so an empty body is refused before the network.
   */
  allowEmptyBody?: boolean;
}

/** A validated message with its body encoded, ready for the wire. Immutable by convention. */
export interface PreparedMessage {
  readonly topic: string;
  readonly tag: string | undefined;
  readonly keys: readonly string[];
  readonly properties: Readonly<Record<string, string>>;
  readonly body: Buffer;
  readonly messageGroup: string | undefined;
  readonly deliveryTimestamp: number | undefined;
}

export interface MessageLimits {
  /** @default 4 MiB, the limit of ApsaraMQ and of Apache RocketMQ 5 proxies */
  maxBodyBytes: number;
}

export { hasControlCharacter };

export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
/**
 * Limits of the Apache RocketMQ 5 proxy (`ProxyConfig` defaults, checked in
 * `SendMessageActivity.buildMessageProperty`): at most 128 user properties, and their keys and values,
 * the tag and the keys together at most 16 KiB of UTF-8.
 */
export const MAX_USER_PROPERTIES = PROXY_MAX_USER_PROPERTIES;
export const MAX_USER_PROPERTY_BYTES = PROXY_MAX_USER_PROPERTY_BYTES;
/** The proxy rejects a message group of `maxMessageGroupSize` (64) UTF-8 bytes or more. */
export const MAX_MESSAGE_GROUP_BYTES = PROXY_MAX_MESSAGE_GROUP_SIZE - 1;
export const MAX_TOPIC_LENGTH = 127;
export const JSON_CONTENT_TYPE = 'application/json';

const TOPIC_PATTERN = /^[%a-zA-Z0-9_-]+$/;
const PROPERTY_KEY_PATTERN = /^[a-zA-Z0-9_.:-]+$/;
const MESSAGE_FIELDS = new Set([
  'topic',
  'tag',
  'keys',
  'properties',
  'body',
  'messageGroup',
  'deliveryTimestamp',
  'allowEmptyBody',
]);

/**
 * Property names users may not set. The Apache RocketMQ proxy rejects every name in
 * `MessageConst.STRING_HASH_SET` (40007); the set here is that set as of the main branch (a superset
 * of 5.0–5.3) plus names the proxy or broker writes itself, where a user value would be overwritten
 * or misread: `__SHARDINGKEY` (the message group), `TRACE_CONTEXT`, `__transactionId__`, the batch
 * and dispatch markers, and ApsaraMQ's `__STARTDELIVERTIME` (delay).
 */
export const RESERVED_PROPERTY_NAMES: ReadonlySet<string> = new Set([
  ...PROXY_SYSTEM_PROPERTY_NAMES,
  // Written by the proxy or broker, not in the set
  '__SHARDINGKEY',
  'TRACE_CONTEXT',
  '__transactionId__',
  'TRANSACTION_CHECK_TIMES',
  'CHECK_IMMUNITY_TIME_IN_SECONDS',
  'INNER_NUM',
  'INNER_BASE',
  'INNER_MULTI_DISPATCH',
  'PROPERTY_FORWARD_QUEUE_ID',
  'REDIRECT',
  // ApsaraMQ for RocketMQ's delivery time
  '__STARTDELIVERTIME',
]);

/** Properties under this prefix are never stored by the broker (`MessageConst.PROPERTY_TRANSIENT_PREFIX`). */
const TRANSIENT_PROPERTY_PREFIX = '__RMQ.TRANSIENT.';

/** Shows a rejected value with its control characters escaped, shortened for an error message. */
function shown(value: string): string {
  const text = JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
  return text;
}

function invalid(field: string, topic: string | undefined, message: string): MessageValidationError {
  return new MessageValidationError(ErrorCode.MESSAGE_INVALID, `invalid message ${field}: ${message}`, {
    field,
    topic,
  });
}

function isBlank(value: string): boolean {
  return value.trim().length === 0;
}

function validateTopic(topic: unknown): string {
  if (typeof topic !== 'string' || topic.length === 0) {
    throw invalid('topic', undefined, 'must be a non-empty string');
  }
  if (topic.length > MAX_TOPIC_LENGTH) {
    throw invalid('topic', undefined, `must be at most ${MAX_TOPIC_LENGTH} characters, got ${topic.length}`);
  }
  if (!TOPIC_PATTERN.test(topic)) {
    throw invalid('topic', undefined, `"${topic}" may contain only letters, digits, %, _ and -`);
  }
  return topic;
}

function validateTag(tag: unknown, topic: string): string | undefined {
  if (tag === undefined) return undefined;
  if (typeof tag !== 'string' || isBlank(tag)) throw invalid('tag', topic, 'must be a non-blank string');
  if (tag.includes('|'))
    throw invalid('tag', topic, `${shown(tag)} must not contain "|" (used in subscriptions)`);
  if (hasControlCharacter(tag))
    throw invalid('tag', topic, `${shown(tag)} must not contain control characters`);
  return tag;
}

function validateKeys(keys: unknown, topic: string): string[] {
  if (keys === undefined) return [];
  const list = typeof keys === 'string' ? [keys] : keys;
  if (!Array.isArray(list)) throw invalid('keys', topic, 'must be a string or an array of strings');
  list.forEach((key: unknown, index) => {
    if (typeof key !== 'string' || isBlank(key)) {
      throw invalid(`keys[${index}]`, topic, 'must be a non-blank string');
    }
    if (hasControlCharacter(key)) {
      throw invalid(`keys[${index}]`, topic, `${shown(key)} must not contain control characters`);
    }
    if (/\s/.test(key)) {
      throw invalid(
        `keys[${index}]`,
        topic,
        `${shown(key)} must not contain whitespace (keys are space-separated)`,
      );
    }
  });
  // A copy: a caller reusing its array must not change a message still in flight.
  return [...(list as string[])];
}

function validateProperties(properties: unknown, topic: string): Record<string, string> {
  if (properties === undefined) return {};
  if (properties === null || typeof properties !== 'object' || Array.isArray(properties)) {
    throw invalid('properties', topic, 'must be an object of string values');
  }
  const entries = Object.entries(properties);
  if (entries.length > MAX_USER_PROPERTIES) {
    throw invalid('properties', topic, `at most ${MAX_USER_PROPERTIES} properties, got ${entries.length}`);
  }
  // A null-prototype copy: a `__proto__` key stays a plain key and never reaches Object.prototype.
  const copy: Record<string, string> = Object.create(null);
  for (const [key, value] of entries) {
    if (!PROPERTY_KEY_PATTERN.test(key)) {
      throw invalid(`properties.${key}`, topic, 'key may contain only letters, digits, _, ., : and -');
    }
    if (RESERVED_PROPERTY_NAMES.has(key) || key.startsWith(TRANSIENT_PROPERTY_PREFIX)) {
      throw invalid(`properties.${key}`, topic, 'is a reserved RocketMQ system property');
    }
    if (typeof value !== 'string') throw invalid(`properties.${key}`, topic, 'value must be a string');
    if (hasControlCharacter(value)) {
      throw invalid(`properties.${key}`, topic, `value ${shown(value)} must not contain control characters`);
    }
    copy[key] = value;
  }
  return copy;
}

/**
 * Re-checks the proxy's property limits (128 properties; properties, tag and keys at most 16 KiB) for
 * a prepared message whose properties were added to after {@link validateMessage}, e.g. a trace context.
 */
export function assertPropertyLimits(message: PreparedMessage): void {
  checkPropertySize(message.properties, message.tag, message.keys, message.topic);
}

/** The proxy's accounting: property keys and values, the tag and the keys, in UTF-8 bytes. */
function checkPropertySize(
  properties: Readonly<Record<string, string>>,
  tag: string | undefined,
  keys: readonly string[],
  topic: string,
): void {
  const entries = Object.entries(properties);
  if (entries.length > MAX_USER_PROPERTIES) {
    throw invalid('properties', topic, `at most ${MAX_USER_PROPERTIES} properties, got ${entries.length}`);
  }
  let bytes = tag === undefined ? 0 : Buffer.byteLength(tag);
  for (const key of keys) bytes += Buffer.byteLength(key);
  for (const [key, value] of entries) bytes += Buffer.byteLength(key) + Buffer.byteLength(value);
  if (bytes > MAX_USER_PROPERTY_BYTES) {
    throw invalid(
      'properties',
      topic,
      `properties, tag and keys are ${bytes} bytes together, over the proxy's ${MAX_USER_PROPERTY_BYTES}`,
    );
  }
}

function encodeBody(body: unknown, topic: string): { bytes: Buffer; json: boolean } {
  if (typeof body === 'string') return { bytes: Buffer.from(body, 'utf8'), json: false };
  // Copied, so a caller that reuses its buffer cannot change a message that is still in flight.
  if (body instanceof Uint8Array) return { bytes: Buffer.from(body), json: false };
  if (body === null || body === undefined) throw invalid('body', topic, 'is required');
  if (typeof body !== 'object') {
    throw invalid('body', topic, `must be a string, bytes or a JSON-serializable object, got ${typeof body}`);
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(body);
  } catch (error) {
    throw new MessageValidationError(
      ErrorCode.MESSAGE_INVALID,
      `invalid message body: not JSON-serializable (${(error as Error).message})`,
      { field: 'body', topic, cause: error },
    );
  }
  if (text === undefined) throw invalid('body', topic, 'serializes to nothing');
  return { bytes: Buffer.from(text, 'utf8'), json: true };
}

function validateGroup(group: unknown, topic: string): string | undefined {
  if (group === undefined) return undefined;
  if (typeof group !== 'string' || isBlank(group)) {
    throw invalid('messageGroup', topic, 'must be a non-blank string');
  }
  const bytes = Buffer.byteLength(group);
  if (bytes > MAX_MESSAGE_GROUP_BYTES) {
    throw invalid(
      'messageGroup',
      topic,
      `must be at most ${MAX_MESSAGE_GROUP_BYTES} bytes of UTF-8, got ${bytes}`,
    );
  }
  if (hasControlCharacter(group)) {
    throw invalid('messageGroup', topic, `${shown(group)} must not contain control characters`);
  }
  return group;
}

function validateDeliveryTimestamp(value: unknown, topic: string): number | undefined {
  if (value === undefined) return undefined;
  const millis = value instanceof Date ? value.getTime() : value;
  if (typeof millis !== 'number' || !Number.isFinite(millis) || millis <= 0) {
    throw invalid('deliveryTimestamp', topic, 'must be a valid Date or a positive epoch-milliseconds number');
  }
  return Math.trunc(millis);
}

/**
 * Checks a message against RocketMQ's naming rules and limits and encodes its body. Runs before any
 * network I/O; throws a {@link MessageValidationError} naming the offending field.
 */
export function validateMessage(
  message: Message,
  limits: MessageLimits = { maxBodyBytes: DEFAULT_MAX_BODY_BYTES },
) {
  if (message === null || typeof message !== 'object') {
    throw invalid('message', undefined, 'must be an object');
  }
  const topic = validateTopic(message.topic);
  for (const field of Object.keys(message)) {
    if (!MESSAGE_FIELDS.has(field)) throw invalid(field, topic, 'is not a message field');
  }
  const tag = validateTag(message.tag, topic);
  const keys = validateKeys(message.keys, topic);
  const properties = validateProperties(message.properties, topic);
  const messageGroup = validateGroup(message.messageGroup, topic);
  const deliveryTimestamp = validateDeliveryTimestamp(message.deliveryTimestamp, topic);
  if (messageGroup !== undefined && deliveryTimestamp !== undefined) {
    throw invalid('deliveryTimestamp', topic, 'cannot be combined with messageGroup');
  }
  if (message.allowEmptyBody !== undefined && typeof message.allowEmptyBody !== 'boolean') {
    throw invalid('allowEmptyBody', topic, 'must be a boolean');
  }
  const { bytes, json } = encodeBody(message.body, topic);
  if (bytes.length === 0 && message.allowEmptyBody !== true) {
    throw invalid(
      'body',
      topic,
      'is empty; a RocketMQ proxy rejects empty bodies (set allowEmptyBody: true where yours accepts them)',
    );
  }
  if (bytes.length > limits.maxBodyBytes) {
    throw new MessageValidationError(
      ErrorCode.MESSAGE_TOO_LARGE,
      `message body is ${bytes.length} bytes, over the ${limits.maxBodyBytes}-byte limit`,
      { field: 'body', topic },
    );
  }
  if (json && properties['content-type'] === undefined) properties['content-type'] = JSON_CONTENT_TYPE;
  checkPropertySize(properties, tag, keys, topic);
  const prepared: PreparedMessage = {
    topic,
    tag,
    keys,
    properties,
    body: bytes,
    messageGroup,
    deliveryTimestamp,
  };
  return prepared;
}
