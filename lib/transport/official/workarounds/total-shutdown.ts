import type { BaseClient } from 'rocketmq-client-nodejs';

/**
 * Upstream behaviour: `shutdown()` awaits NotifyClientTermination, with the full request timeout and
 * no catch, before it releases the telemetry sessions and closes the channels — rocketmq-client-nodejs
 * 1.0.8, src/client/BaseClient.ts lines 253-261 and 469-475
 * (https://github.com/apache/rocketmq-clients/blob/da8271b572b41b627bcbbdfb5b3310c0c5e4736b/nodejs/src/client/BaseClient.ts#L240-L270).
 * When the broker is unreachable the notification throws, the steps after it are skipped, and the
 * RpcClientManager's 60 s idle-check interval (src/client/RpcClientManager.ts line 52) keeps the
 * process alive. A shutdown that drains fully was proposed in apache/rocketmq-clients#1368 (closed
 * unmerged).
 *
 * Why it matters: a function's instance shuts its clients down while the broker may be gone, within
 * a deadline. Bounding the one notification and swallowing its failure makes shutdown always run to
 * the end.
 *
 * Remove when `shutdown()` completes with the broker unreachable;
 * test/transport/upstream/total-shutdown.test.ts notices.
 */

/** NotifyClientTermination gets this long; the broker may be gone, and shutdown must not wait on it. */
const TERMINATION_TIMEOUT_MS = 1000;

export function makeShutdownTotal(client: Pick<BaseClient, 'getRpcClientManager'>): void {
  const rpc = client.getRpcClientManager();
  const notify = rpc.notifyClientTermination.bind(rpc);
  rpc.notifyClientTermination = (endpoints, request) =>
    notify(endpoints, request, TERMINATION_TIMEOUT_MS).catch(() => undefined as never);
}
