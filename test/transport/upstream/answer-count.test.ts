import { setTimeout as sleep } from 'node:timers/promises';
import { Endpoints, RpcClient } from 'rocketmq-client-nodejs';
import { QueryRouteRequest } from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import { describe, expect, it } from 'vitest';
import { routeOf } from '../../../lib/transport/official/internals.js';
import { countAnswers } from '../../../lib/transport/official/workarounds/answer-count.js';
import { useBroker } from '../../support/broker-fixture.js';
import { fixedUpstream, outcomeOf, useOfficialClients } from './clients.js';

const fixture = useBroker();
const clients = useOfficialClients(fixture);
const DEADLINE_EXCEEDED = 4;
const TOPIC_NOT_FOUND = 40402;

describe('answer count (lib/transport/official/workarounds/answer-count.ts)', () => {
  it('upstream: the client has no interceptor or hook to learn of answers', async () => {
    const exported = Object.keys(await import('rocketmq-client-nodejs'));
    expect(
      exported.filter((name) => /intercept|hook/i.test(name)),
      fixedUpstream('answer-count.ts'),
    ).toEqual([]);
  });

  it("upstream: the client's idle time counts a call nobody answered as activity", async () => {
    const metadata = clients.create().getRequestMetadata();
    const rpc = new RpcClient(new Endpoints(fixture.broker.endpoint), false);
    try {
      fixture.broker.faults.blackhole(true);
      await sleep(200);
      const callStarted = Date.now();
      expect(await outcomeOf(rpc.queryRoute(new QueryRouteRequest(), metadata, 1000))).toBe(
        DEADLINE_EXCEEDED,
      );
      const idle = rpc.idleDuration();
      // Were answers what counted, the client would have been idle since it was made, 200 ms earlier.
      expect(idle, fixedUpstream('answer-count.ts')).toBeLessThanOrEqual(Date.now() - callStarted);
    } finally {
      rpc.close();
    }
  });

  it('with the workaround, answers are counted and unanswered calls are not', async () => {
    const client = clients.create();
    let answers = 0;
    countAnswers(client, () => {
      answers++;
    });
    await client.startup();

    fixture.broker.faults.blackhole(true);
    expect(await outcomeOf(routeOf(client, 'orders'))).toBe(DEADLINE_EXCEEDED);
    expect(answers).toBe(0);

    fixture.broker.faults.blackhole(false);
    expect(await outcomeOf(routeOf(client, 'orders'))).toBe('answered');
    const afterRoute = answers;
    expect(afterRoute).toBeGreaterThanOrEqual(1);
    // An answer that carries a failure status is an answer as well.
    expect(await outcomeOf(routeOf(client, 'no-such-topic'))).toBe(TOPIC_NOT_FOUND);
    expect(answers).toBeGreaterThan(afterRoute);
  });
});
