import { channel } from 'node:diagnostics_channel';
import type { RocketMQError } from './errors.js';
import type { SendMode } from './producer/stats.js';

/**
 * The send lifecycle on `node:diagnostics_channel`. Publishing is guarded by `hasSubscribers`, so a
 * process where nobody listens pays one property read per event and builds no payload. The
 * OpenTelemetry bridge (`rocketmq-serverless/otel`) is one subscriber; anything else can subscribe the
 * same way: `diagnostics_channel.subscribe('rocketmq-serverless:send:success', (event) => …)`.
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
