/**
 * `rocketmq-serverless/advanced`: for tuning, tools and tests rather than for a function's everyday
 * code — how options resolve (`resolveConfig`, `DEFAULTS`), the bounds and constants behind them, the
 * transport seam a test or a benchmark plugs into, the classes behind the main entry's types, and the
 * process-wide stats and logger factories.
 */
export {
  DEFAULTS,
  type Env,
  type ResolvedConfig,
  resolveConfig,
  resolveCredentials,
  type TransportChoice,
} from '../config.js';
export { ReceivedMessage } from '../consumer/received.js';
export { type ConsumerStats, consumerStats } from '../consumer/stats.js';
export { isRetryableCode, type RocketMQErrorDetails } from '../errors.js';
export { createLogger } from '../log.js';
export { DEFAULT_MAX_BODY_BYTES } from '../message.js';
export {
  PACK_CONTENT_TYPE,
  PACK_FORMAT_PROPERTY,
  PACK_FORMAT_VERSION,
  PACK_RECORDS_PROPERTY,
  PACKER_DEFAULTS,
} from '../pack/index.js';
export { IN_FLIGHT_DEFAULTS, type InFlightLimits } from '../producer/in-flight.js';
export { type DrainOptions, Producer } from '../producer/producer.js';
export { hasOpenSharedProducer } from '../producer/shared.js';
export type { Transport, TransportFactory, TransportReceipt } from '../producer/transport.js';
