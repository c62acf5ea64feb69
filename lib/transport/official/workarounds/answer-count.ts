import type { BaseClient } from 'rocketmq-client-nodejs';

/**
 * Upstream behaviour: the client offers no way to learn that the broker answered. Its only liveness
 * signal, `RpcClient.idleDuration()`, is reset when a call starts, answered or not —
 * rocketmq-client-nodejs 1.0.8, src/client/RpcClient.ts lines 58 and 66-69
 * (https://github.com/apache/rocketmq-clients/blob/da8271b572b41b627bcbbdfb5b3310c0c5e4736b/nodejs/src/client/RpcClient.ts#L58-L69)
 * — and it has no interceptors; a hook framework was proposed in apache/rocketmq-clients#1368 (closed
 * unmerged).
 *
 * Why it matters: after a failed send the producer has to tell a slow broker (answers still arrive)
 * from a dead channel (nothing arrives) before it replaces the client. So the unary calls a producer
 * makes (QueryRoute, Heartbeat, SendMessage) are wrapped on the client's public RpcClientManager, and
 * every answer they bring — whatever status it carries — is counted.
 *
 * Remove when the client reports answers (an interceptor or a last-answer time);
 * test/transport/upstream/answer-count.test.ts notices.
 */
export function countAnswers(client: Pick<BaseClient, 'getRpcClientManager'>, onAnswer: () => void): void {
  const rpc = client.getRpcClientManager();
  const noted = <T>(response: T) => {
    onAnswer();
    return response;
  };
  const queryRoute = rpc.queryRoute.bind(rpc);
  rpc.queryRoute = (...args) => queryRoute(...args).then(noted);
  const heartbeat = rpc.heartbeat.bind(rpc);
  rpc.heartbeat = (...args) => heartbeat(...args).then(noted);
  const sendMessage = rpc.sendMessage.bind(rpc);
  rpc.sendMessage = (...args) => sendMessage(...args).then(noted);
}
