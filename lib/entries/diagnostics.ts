/**
 * `rocketmq-serverless/diagnostics`: the send lifecycle's contract on `node:diagnostics_channel` — the
 * channel names and the shape of each event — with nothing to install. Subscribe with Node's own
 * `subscribe(CHANNEL_NAMES.success, listener)`; the OpenTelemetry bridge (`rocketmq-serverless/otel`)
 * is one such subscriber.
 */
export {
  CHANNEL_NAMES,
  type ChannelName,
  type SendDropEvent,
  type SendErrorEvent,
  type SendEvent,
  type SendEventMap,
  type SendRetryEvent,
  type SendSpoolEvent,
  type SendStartEvent,
  type SendSuccessEvent,
} from '../diagnostics.js';
export type { SendMode } from '../producer/stats.js';
