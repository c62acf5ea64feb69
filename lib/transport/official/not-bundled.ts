import { ConfigError } from '../../errors.js';

/**
 * Stands in for the official client in function bundles built for the lean transport, which leave the
 * client out. Choosing the official transport in such a bundle fails with this error on first use.
 */
export class ClientTransport {
  constructor() {
    throw new ConfigError(
      'this bundle was built without the official RocketMQ client; unset ROCKETMQ_TRANSPORT ' +
        '(or set it to "lean"), or build with ROCKETMQ_TRANSPORT=official to include the client',
    );
  }
}
