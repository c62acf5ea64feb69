import type { BaseClient, TopicRouteData } from 'rocketmq-client-nodejs';

/**
 * The protected members of the client's `BaseClient` that this library reaches, typed, in one place —
 * rocketmq-client-nodejs 1.0.8, src/client/BaseClient.ts
 * (https://github.com/apache/rocketmq-clients/blob/da8271b572b41b627bcbbdfb5b3310c0c5e4736b/nodejs/src/client/BaseClient.ts):
 * `topics` (line 84), `updateRoutes()` (line 321) and `getRouteData()` (line 327). TypeScript keeps
 * protected members from outside callers; at run time they are ordinary properties. Each accessor
 * checks that the member is still there, so an upgrade that renames one fails with a clear message
 * instead of a silent no-op.
 */
interface ProtectedMembers {
  readonly topics: Set<string>;
  getRouteData(topic: string): Promise<TopicRouteData>;
  updateRoutes(): Promise<void>;
}

function members(client: BaseClient): Partial<ProtectedMembers> {
  return client as unknown as Partial<ProtectedMembers>;
}

function missing(member: string): TypeError {
  return new TypeError(
    `rocketmq-client-nodejs no longer has BaseClient.${member}; update lib/transport/official/internals.ts`,
  );
}

/**
 * The topics the client refreshes the routes of every 30 s, for good: every topic it was asked to
 * route joins it.
 */
export function refreshedTopics(client: BaseClient): Set<string> {
  const { topics } = members(client);
  if (!(topics instanceof Set)) throw missing('topics');
  return topics;
}

/** The route of `topic`, from the client's cache or looked up (the lookup adds it to the refreshed topics). */
export function routeOf(client: BaseClient, topic: string): Promise<TopicRouteData> {
  const { getRouteData } = members(client);
  if (typeof getRouteData !== 'function') throw missing('getRouteData');
  return getRouteData.call(client, topic);
}

/** One run of the client's periodic route refresh, now. */
export function refreshRoutes(client: BaseClient): Promise<void> {
  const { updateRoutes } = members(client);
  if (typeof updateRoutes !== 'function') throw missing('updateRoutes');
  return updateRoutes.call(client);
}
