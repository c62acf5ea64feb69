export { BatchFailedError } from './errors.js';
export { fromMessageView, POLL_DEFAULTS, type PollOptions, type PollReport, pollMessages } from './poll.js';
export {
  type FailurePolicy,
  type HandlerContext,
  type MessageHandler,
  type MessageOutcome,
  type OutcomeStatus,
  PROCESS_DEFAULTS,
  type ProcessOptions,
  type ProcessReport,
  processMessages,
  RETRY_PROPERTIES,
} from './processor.js';
export {
  type PackOrigin,
  ReceivedMessage,
  type ReceivedSource,
  type SystemPropertyValue,
} from './received.js';
export { sharedConsumerCount, shutdownSharedConsumer } from './shared-consumer.js';
export { type ConsumerStats, consumerStats } from './stats.js';
export { unpackMessage, unpackMessages } from './unpack.js';
