import { ErrorCode, MessageValidationError } from './errors.js';
import {
  checkPropertySize,
  DEFAULT_MAX_BODY_BYTES,
  encodeBody,
  invalid,
  JSON_CONTENT_TYPE,
  MESSAGE_FIELDS,
  validateDeliveryTimestamp,
  validateGroup,
  validateKeys,
  validateProperties,
  validateTag,
  validateTopic,
} from './message-fields.js';

export {
  DEFAULT_MAX_BODY_BYTES,
  JSON_CONTENT_TYPE,
  MAX_MESSAGE_GROUP_BYTES,
  MAX_TOPIC_LENGTH,
  MAX_USER_PROPERTIES,
  MAX_USER_PROPERTY_BYTES,
  RESERVED_PROPERTY_NAMES,
} from './message-fields.js';
export { hasControlCharacter } from './proxy-rules.js';

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

/**
 * A validated message with its body encoded, ready for the wire. Frozen, with its keys and properties:
 * a message in flight cannot change, and a layer that adds to it (a trace context) makes a new one with
 * {@link withProperties}.
 */
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

/**
 * Checks a message against RocketMQ's naming rules and limits and encodes its body. Runs before any
 * network I/O; throws a {@link MessageValidationError} naming the offending field.
 */
export function validateMessage(
  message: Message,
  limits: MessageLimits = { maxBodyBytes: DEFAULT_MAX_BODY_BYTES },
): PreparedMessage {
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
  return prepared({ topic, tag, keys, properties, body: bytes, messageGroup, deliveryTimestamp });
}

/**
 * A new prepared message: `message` with `properties` in place of its own (a trace context added, say),
 * checked again against the proxy's property limits (128 properties; properties, tag and keys at most
 * 16 KiB). Returns `message` itself when the properties are the same.
 */
export function withProperties(
  message: PreparedMessage,
  properties: Readonly<Record<string, string>>,
): PreparedMessage {
  const entries = Object.entries(properties);
  const same =
    entries.length === Object.keys(message.properties).length &&
    entries.every(([key, value]) => message.properties[key] === value);
  if (same) return message;
  const copy: Record<string, string> = Object.create(null);
  for (const [key, value] of entries) copy[key] = value;
  return prepared({ ...message, properties: copy });
}

/** Checks the property limits and freezes the message, its keys and its properties. */
function prepared(fields: {
  topic: string;
  tag: string | undefined;
  keys: readonly string[];
  properties: Record<string, string>;
  body: Buffer;
  messageGroup: string | undefined;
  deliveryTimestamp: number | undefined;
}): PreparedMessage {
  checkPropertySize(fields.properties, fields.tag, fields.keys, fields.topic);
  return Object.freeze({
    ...fields,
    keys: Object.freeze([...fields.keys]),
    properties: Object.freeze(fields.properties),
  });
}
