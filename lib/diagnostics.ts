import { channel } from 'node:diagnostics_channel';
import type { RocketMQError } from './errors.js';
import type { SendMode } from './producer/stats.js';

/**
 * The send lifecycle on `node:diagnostics_channel`, public as `rocketmq-serverless/diagnostics`.
 * Publishing is guarded by `hasSubscribers`, so a process where nobody listens pays one property read
 * per event and builds no payload. The OpenTelemetry bridge (`rocketmq-serverless/otel`) is one
 * subscriber; anything else can subscribe the same way:
 * `diagnostics_channel.subscribe(CHANNEL_NAMES.success, (event) => …)`.
 *
 * Plain named channels rather than a `tracingChannel`: a send's life has more than a start and an end
 * (each retry, the spool, a oneway send dropped at the in-flight bound), an async send ends in a
 * callback long after the call that started it returned, and subscribers of `start` write trace
 * context into the message before it is encoded.
 */
export const CHANNEL_NAMES = {
  start: 'rocketmq-serverless:send:start',
  retry: 'rocketmq-serverless:send:retry',
  success: 'rocketmq-serverless:send:success',
  error: 'rocketmq-serverless:send:error',
  spool: 'rocketmq-serverless:send:spool',
  drop: 'rocketmq-serverless:send:drop',
} as const;

interface SendEventBase {
  /** Correlates the events of one send within the process. */
  sendId: number;
  topic: string;
  mode: SendMode;
  keys: readonly string[];
}

export interface SendStartEvent extends SendEventBase {
  tag: string | undefined;
  messageType: 'NORMAL' | 'FIFO' | 'DELAY';
  /**
   * The message's user properties, still writable: a subscriber may add trace context
   * (`traceparent`) here before the message is encoded.
   */
  properties: Record<string, string>;
}

export interface SendRetryEvent extends SendEventBase {
  /** The attempt that failed. */
  attempt: number;
  error: RocketMQError;
}

export interface SendSuccessEvent extends SendEventBase {
  messageId: string | undefined;
  attempts: number;
  durationMs: number;
}

export interface SendErrorEvent extends SendEventBase {
  attempts: number;
  durationMs: number;
  error: RocketMQError;
}

export interface SendSpoolEvent extends SendEventBase {
  error: RocketMQError;
}

export type SendDropEvent = SendEventBase;

/** The event each channel carries, by the keys of {@link CHANNEL_NAMES}. */
export interface SendEventMap {
  start: SendStartEvent;
  retry: SendRetryEvent;
  success: SendSuccessEvent;
  error: SendErrorEvent;
  spool: SendSpoolEvent;
  drop: SendDropEvent;
}

export type ChannelName = (typeof CHANNEL_NAMES)[keyof typeof CHANNEL_NAMES];
export type SendEvent = SendEventMap[keyof SendEventMap];

export const channels = {
  start: channel(CHANNEL_NAMES.start),
  retry: channel(CHANNEL_NAMES.retry),
  success: channel(CHANNEL_NAMES.success),
  error: channel(CHANNEL_NAMES.error),
  spool: channel(CHANNEL_NAMES.spool),
  drop: channel(CHANNEL_NAMES.drop),
};

let lastSendId = 0;

export function nextSendId(): number {
  lastSendId = (lastSendId + 1) % Number.MAX_SAFE_INTEGER;
  return lastSendId;
}
