/**
 * The main entry: what a function needs to send, pack and process messages and to tell its errors
 * apart. Every value exported here is listed by name in `test/unit/platforms/exports.test.ts`, so the
 * entry grows only by decision. The pieces for tuning and for tools are on their own subpaths:
 * `rocketmq-serverless/advanced` (configuration resolution, defaults, transports, stats),
 * `rocketmq-serverless/spool` (the spools) and `rocketmq-serverless/diagnostics` (the channel contract).
 */
export type { Credentials, ProducerConfigOptions, RetryOptions } from './config.js';
// From the modules themselves, not consumer/index.js: that one also exports the pull consumer, which
// loads the official client, and a function that only sends must not bundle it.
export { BatchFailedError } from './consumer/errors.js';
export {
  type FailurePolicy,
  type MessageHandler,
  type MessageOutcome,
  type ProcessOptions,
  type ProcessReport,
  processMessages,
} from './consumer/processor.js';
export type { ReceivedMessage } from './consumer/received.js';
export {
  ConfigError,
  ErrorCode,
  EventError,
  isRocketMQError,
  MessageValidationError,
  RocketMQError,
} from './errors.js';
export { getLogger } from './log.js';
export { type Message, type MessageLimits, type PreparedMessage, validateMessage } from './message.js';
export {
  isPack,
  type PackedMessageLike,
  Packer,
  type PackerOptions,
  type PackPosition,
  type PackRecord,
  type UnpackedRecord,
  unpack,
} from './pack/index.js';
export type { Invocation } from './platforms/invocation.js';
export type { DeadlineOptions } from './producer/deadline.js';
export type {
  DrainResult,
  Producer,
  ProducerOptions,
  SendCallback,
  SendFailure,
  SendOptions,
  SendResult,
} from './producer/producer.js';
export { createProducer, getProducer, shutdownSharedProducer } from './producer/shared.js';
export type { LatencySummary, ModeStats, ProducerStats, SendMode } from './producer/stats.js';
