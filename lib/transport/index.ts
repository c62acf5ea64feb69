import type { ResolvedConfig } from '../config.js';
import type { ClientLogger } from '../log.js';
import { LeanTransport } from './lean/transport.js';
import { OfficialTransport } from './official/index.js';
import type { Transport, TransportFactory } from './types.js';

export { BrokerStatusError, GrpcCallError } from './errors.js';
export { LeanTransport, type LeanTransportOptions } from './lean/transport.js';
export { OfficialTransport } from './official/index.js';
export type {
  SendAttemptOptions,
  Transport,
  TransportFactory,
  TransportFailure,
  TransportReceipt,
} from './types.js';

/** The transport the config chose (`transport` option, env `ROCKETMQ_TRANSPORT`). */
export const createTransport: TransportFactory = (config: ResolvedConfig, logger: ClientLogger): Transport =>
  config.transport === 'official' ? new OfficialTransport(config, logger) : new LeanTransport(config, logger);
