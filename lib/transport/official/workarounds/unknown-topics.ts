import type { BaseClient } from 'rocketmq-client-nodejs';
import { refreshedTopics } from '../internals.js';

/**
 * Upstream behaviour: a route lookup adds its topic to the client's refreshed topics before it asks
 * the broker, and keeps it there when the broker does not know the topic; the 30 s refresh then looks
 * the topics up one after another and stops at the first failure — rocketmq-client-nodejs 1.0.8,
 * src/client/BaseClient.ts lines 341-342 (in `getRouteData`), 321-325 (`updateRoutes`) and 190-197
 * (the timer)
 * (https://github.com/apache/rocketmq-clients/blob/da8271b572b41b627bcbbdfb5b3310c0c5e4736b/nodejs/src/client/BaseClient.ts#L321-L355).
 * No upstream issue or pull request about it was found.
 *
 * Why it matters: one send to a mistyped topic would make every refresh after it fail and stop the
 * refresh of the topics added later, for the life of the instance. So a topic the broker answered
 * TOPIC_NOT_FOUND for is taken out of the refreshed topics again.
 *
 * Remove when a failed lookup leaves the refreshed topics as they were;
 * test/transport/upstream/unknown-topics.test.ts notices.
 */
export function forgetUnknownTopic(client: BaseClient, topic: string): void {
  refreshedTopics(client).delete(topic);
}
