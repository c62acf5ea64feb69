export {
  type Credentials,
  DEFAULTS,
  type ProducerConfigOptions,
  type ResolvedConfig,
  type RetryOptions,
  resolveConfig,
} from './config.js';
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
export { ReceivedMessage } from './consumer/received.js';
export { type ConsumerStats, consumerStats } from './consumer/stats.js';
export {
  ConfigError,
  ErrorCode,
  EventError,
  isRetryableCode,
  isRocketMQError,
  MessageValidationError,
  RocketMQError,
} from './errors.js';
export { createLogger, getLogger } from './log.js';
export {
  DEFAULT_MAX_BODY_BYTES,
  type Message,
  type MessageLimits,
  type PreparedMessage,
  validateMessage,
} from './message.js';
export {
  isPack,
  PACK_CONTENT_TYPE,
  PACK_FORMAT_PROPERTY,
  PACK_FORMAT_VERSION,
  PACK_RECORDS_PROPERTY,
  PACKER_DEFAULTS,
  type PackedMessageLike,
  Packer,
  type PackerOptions,
  type PackPosition,
  type PackRecord,
  type UnpackedRecord,
  unpack,
} from './pack.js';
export type { Invocation } from './platforms/invocation.js';
export type { DeadlineOptions } from './producer/deadline.js';
export { IN_FLIGHT_DEFAULTS, type InFlightLimits } from './producer/in-flight.js';
export {
  type DrainResult,
  Producer,
  type ProducerOptions,
  type SendCallback,
  type SendFailure,
  type SendOptions,
  type SendResult,
} from './producer/producer.js';
export {
  createProducer,
  getProducer,
  hasOpenSharedProducer,
  shutdownSharedProducer,
} from './producer/shared.js';
export type { LatencySummary, ModeStats, ProducerStats, SendMode } from './producer/stats.js';
export type { Transport, TransportFactory, TransportReceipt } from './producer/transport.js';
export { DEFAULT_SPOOL_DIR, FileSpool, type FileSpoolOptions } from './spool/file-spool.js';
export { S3Spool, type S3SpoolOptions } from './spool/s3-spool.js';
export type { RedeliverOptions, RedeliverReport, Spool, SpoolRecord, SpoolSender } from './spool/spool.js';
