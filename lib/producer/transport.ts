/**
 * The producer's transport lives in lib/transport/; this module keeps the producer's imports working.
 * `createClientTransport` is the config-selected factory (lean or official).
 */
export {
  createTransport as createClientTransport,
  createTransport,
  type SendAttemptOptions,
  type Transport,
  type TransportFactory,
  type TransportReceipt,
} from '../transport/index.js';
