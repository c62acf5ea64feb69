import grpcService from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_grpc_pb.js';

/**
 * Upstream behaviour: the client builds each gRPC channel as
 * `new MessagingServiceClient(address, credentials)`, with no channel options, and takes none from its
 * caller — rocketmq-client-nodejs 1.0.8, src/client/RpcClient.ts line 63
 * (https://github.com/apache/rocketmq-clients/blob/da8271b572b41b627bcbbdfb5b3310c0c5e4736b/nodejs/src/client/RpcClient.ts#L60-L64).
 * Channel options for the Node client were asked for in apache/rocketmq-clients#1181 (keepalive,
 * closed as stale) and proposed in #1368 (closed unmerged) and #1375 (transport self-healing, open).
 *
 * Why it matters: grpc-js pools connections process-wide by target and channel options, and keeps a
 * pooled connection for up to 10 s after its last channel closed. A client created to replace one whose
 * connection went silent (the instance was frozen and the network forgot the connection) would
 * therefore be handed the same dead connection. So the generated client class that RpcClient reads at
 * construction time is replaced by a subclass that adds one more option: a connection epoch that each
 * reset advances. Channels of one epoch still share one connection; a new epoch gets a fresh one. The
 * subclass also shortens grpc-js's reconnect backoff.
 *
 * Remove when the client accepts channel options (then pass the epoch through them) or no longer hands
 * a new client a pooled connection; test/transport/upstream/connection-epochs.test.ts notices.
 */

const CONNECTION_EPOCH_OPTION = 'grpc-node.rocketmq_serverless.connection_epoch';
/**
 * grpc-js waits 1 s before reconnecting to a broker that went away, then up to 120 s. A function lives
 * seconds, so it retries sooner: 100 ms, then at most every second (with grpc-js's jitter).
 */
const RECONNECT_BACKOFF = {
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1000,
};

let connectionEpoch = 0;
let installed = false;

/** Replaces the client's generated gRPC client class, once per process. */
export function installConnectionEpochs(): void {
  if (installed) return;
  installed = true;
  const exports = grpcService as unknown as Record<string, unknown>;
  const Generated = grpcService.MessagingServiceClient;
  exports.MessagingServiceClient = class extends Generated {
    constructor(address: string, credentials: ConstructorParameters<typeof Generated>[1], options?: object) {
      super(address, credentials, {
        ...RECONNECT_BACKOFF,
        ...options,
        [CONNECTION_EPOCH_OPTION]: connectionEpoch,
      });
    }
  };
}

/**
 * Channels of the official client built from now on, by any client of this process, open fresh
 * connections instead of pooled ones, which may be dead after a freeze.
 */
export function useFreshConnections(): void {
  installConnectionEpochs();
  connectionEpoch++;
}
