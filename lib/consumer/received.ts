import { ErrorCode, EventError } from '../errors.js';
import { decodeUtf8, parseJson } from '../triggers/json.js';

/** Where a received message came from. */
export type ReceivedSource =
  /** FC RocketMQ trigger (ApsaraMQ for RocketMQ through EventBridge). */
  | 'fc-rocketmq'
  /** FC trigger on a self-managed Apache RocketMQ cluster. */
  | 'fc-apache-rocketmq'
  /** Received by the pull consumer (`pollMessages`). */
  | 'pull';

/** A system property value as the platform delivered it: FC mixes strings and numbers. */
export type SystemPropertyValue = string | number | boolean;

/** Set when the record was one of several packed into one broker message. */
export interface PackOrigin {
  /** Id of the broker message that carried the pack. */
  messageId: string | undefined;
  /** Position of this record in the pack, from 0. */
  index: number;
  /** Records in the pack. */
  count: number;
}

export interface ReceivedMessageFields {
  source: ReceivedSource;
  topic: string;
  messageId: string | undefined;
  tag: string | undefined;
  keys: readonly string[];
  body: Uint8Array;
  userProperties: Readonly<Record<string, string>>;
  systemProperties: Readonly<Record<string, SystemPropertyValue>>;
  messageGroup: string | undefined;
  deliveryAttempt: number | undefined;
  bornTime: string | undefined;
  publishTime: string | undefined;
  traceparent: string | undefined;
  pack?: PackOrigin | undefined;
}

/**
 * One message (or one record of a pack) as a consumer sees it, whatever delivered it: an FC trigger event
 * or the pull consumer. The body is kept as bytes; `text()` and `json()` decode it on request, so a
 * handler that only forwards bytes pays for no decoding.
 */
export class ReceivedMessage {
  readonly source: ReceivedSource;
  readonly topic: string;
  /**
   * The message id the producer's client assigned (`UNIQ_KEY`); for the CloudEvents schema without one,
   * the event id. `undefined` only for a RawData event that carries no `UNIQ_KEY`.
   */
  readonly messageId: string | undefined;
  readonly tag: string | undefined;
  readonly keys: readonly string[];
  readonly body: Uint8Array;
  /** Properties the producer set (`traceparent`, `content-type`, the application's own). */
  readonly userProperties: Readonly<Record<string, string>>;
  /** Broker and platform properties as delivered (`TAGS`, `KEYS`, `MIN_OFFSET`, `CONSUME_START_TIME`, …). */
  readonly systemProperties: Readonly<Record<string, SystemPropertyValue>>;
  /** FIFO message group, when the message has one. */
  readonly messageGroup: string | undefined;
  /** 1 on the first delivery; `undefined` where the platform does not say. */
  readonly deliveryAttempt: number | undefined;
  /** When the message was sent (ISO 8601, UTC), where known. */
  readonly bornTime: string | undefined;
  /** When EventBridge published the event (ISO 8601, UTC); FC triggers only. */
  readonly publishTime: string | undefined;
  /** The W3C trace context the producer attached, when it is well-formed. */
  readonly traceparent: string | undefined;
  /** Present when this record was unpacked from a pack. */
  readonly pack: PackOrigin | undefined;

  constructor(fields: ReceivedMessageFields) {
    this.source = fields.source;
    this.topic = fields.topic;
    this.messageId = fields.messageId;
    this.tag = fields.tag;
    this.keys = fields.keys;
    this.body = fields.body;
    this.userProperties = fields.userProperties;
    this.systemProperties = fields.systemProperties;
    this.messageGroup = fields.messageGroup;
    this.deliveryAttempt = fields.deliveryAttempt;
    this.bornTime = fields.bornTime;
    this.publishTime = fields.publishTime;
    this.traceparent = fields.traceparent;
    this.pack = fields.pack;
  }

  /** The body as UTF-8 text; an {@link EventError} when it is not valid UTF-8. */
  text(): string {
    const text = decodeUtf8(this.body);
    if (text === undefined) {
      throw new EventError(
        ErrorCode.EVENT_INVALID,
        `message ${this.messageId ?? '(no id)'}: body is not UTF-8`,
        {
          topic: this.topic,
          ...(this.messageId !== undefined && { messageId: this.messageId }),
          field: 'body',
        },
      );
    }
    return text;
  }

  /** The body parsed as JSON; an {@link EventError} when it is not JSON. */
  json<T = unknown>(): T {
    const text = this.text();
    try {
      return parseJson(text) as T;
    } catch (error) {
      throw new EventError(
        ErrorCode.EVENT_INVALID,
        `message ${this.messageId ?? '(no id)'}: body is not JSON: ${(error as Error).message}`,
        {
          cause: error,
          topic: this.topic,
          ...(this.messageId !== undefined && { messageId: this.messageId }),
          field: 'body',
        },
      );
    }
  }

  /** For logs: everything but the body, which may be large or sensitive; its size instead. */
  toJSON(): Record<string, unknown> {
    return {
      source: this.source,
      topic: this.topic,
      messageId: this.messageId,
      tag: this.tag,
      keys: this.keys,
      bodyBytes: this.body.byteLength,
      messageGroup: this.messageGroup,
      deliveryAttempt: this.deliveryAttempt,
      bornTime: this.bornTime,
      pack: this.pack,
    };
  }
}
