/**
 * The rules one message field at a time: RocketMQ's naming rules, the Apache RocketMQ 5 proxy's limits
 * and its reserved property names. Each check throws a {@link MessageValidationError} naming the field.
 */
import { ErrorCode, MessageValidationError } from './errors.js';
import {
  hasControlCharacter,
  PROXY_MAX_MESSAGE_GROUP_SIZE,
  PROXY_MAX_USER_PROPERTIES,
  PROXY_MAX_USER_PROPERTY_BYTES,
  PROXY_SYSTEM_PROPERTY_NAMES,
} from './proxy-rules.js';

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
/** The fields of a {@link Message}; any other key is refused, as a likely typo. */
export const MESSAGE_FIELDS: ReadonlySet<string> = new Set([
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

export function invalid(field: string, topic: string | undefined, message: string): MessageValidationError {
  return new MessageValidationError(ErrorCode.MESSAGE_INVALID, `invalid message ${field}: ${message}`, {
    field,
    topic,
  });
}

function isBlank(value: string): boolean {
  return value.trim().length === 0;
}

export function validateTopic(topic: unknown): string {
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

export function validateTag(tag: unknown, topic: string): string | undefined {
  if (tag === undefined) return undefined;
  if (typeof tag !== 'string' || isBlank(tag)) throw invalid('tag', topic, 'must be a non-blank string');
  if (tag.includes('|'))
    throw invalid('tag', topic, `${shown(tag)} must not contain "|" (used in subscriptions)`);
  if (hasControlCharacter(tag))
    throw invalid('tag', topic, `${shown(tag)} must not contain control characters`);
  return tag;
}

export function validateKeys(keys: unknown, topic: string): string[] {
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

export function validateProperties(properties: unknown, topic: string): Record<string, string> {
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

/** The proxy's accounting: property keys and values, the tag and the keys, in UTF-8 bytes. */
export function checkPropertySize(
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

export function encodeBody(body: unknown, topic: string): { bytes: Buffer; json: boolean } {
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

export function validateGroup(group: unknown, topic: string): string | undefined {
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

export function validateDeliveryTimestamp(value: unknown, topic: string): number | undefined {
  if (value === undefined) return undefined;
  const millis = value instanceof Date ? value.getTime() : value;
  if (typeof millis !== 'number' || !Number.isFinite(millis) || millis <= 0) {
    throw invalid('deliveryTimestamp', topic, 'must be a valid Date or a positive epoch-milliseconds number');
  }
  return Math.trunc(millis);
}
