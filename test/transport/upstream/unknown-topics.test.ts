import { describe, expect, it } from 'vitest';
import { refreshedTopics, refreshRoutes, routeOf } from '../../../lib/transport/official/internals.js';
import { forgetUnknownTopic } from '../../../lib/transport/official/workarounds/unknown-topics.js';
import { useBroker } from '../../support/broker-fixture.js';
import { fixedUpstream, outcomeOf, useOfficialClients } from './clients.js';

const fixture = useBroker();
const clients = useOfficialClients(fixture);
const TOPIC_NOT_FOUND = 40402;

function queryRouteCalls(): number {
  return fixture.broker.stats().rpcCalls.QueryRoute ?? 0;
}

describe('unknown topics (lib/transport/official/workarounds/unknown-topics.ts)', () => {
  it('upstream: a topic the broker does not know stays refreshed and stops the refresh of later ones', async () => {
    const client = clients.create();
    await client.startup();
    expect(await outcomeOf(routeOf(client, 'no-such-topic'))).toBe(TOPIC_NOT_FOUND);
    expect(refreshedTopics(client).has('no-such-topic'), fixedUpstream('unknown-topics.ts')).toBe(true);
    await routeOf(client, 'orders');

    const before = queryRouteCalls();
    expect(await outcomeOf(refreshRoutes(client)), fixedUpstream('unknown-topics.ts')).toBe(TOPIC_NOT_FOUND);
    // Only the unknown topic was looked up; `orders`, after it, was not refreshed.
    expect(queryRouteCalls() - before, fixedUpstream('unknown-topics.ts')).toBe(1);
  });

  it('with the workaround, the refresh skips the unknown topic and refreshes the others', async () => {
    const client = clients.create();
    await client.startup();
    expect(await outcomeOf(routeOf(client, 'no-such-topic'))).toBe(TOPIC_NOT_FOUND);
    forgetUnknownTopic(client, 'no-such-topic');
    await routeOf(client, 'orders');

    const before = queryRouteCalls();
    expect(await outcomeOf(refreshRoutes(client))).toBe('answered');
    expect([...refreshedTopics(client)]).toEqual(['orders']);
    expect(queryRouteCalls() - before).toBe(1);
  });
});
