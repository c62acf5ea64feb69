import { describe, expect, it } from 'vitest';
import { BrokerStatusError } from '../../../lib/transport/errors.js';
import { type MessageQueueObject, MessageType, Permission } from '../../../lib/transport/lean/proto.js';
import { RouteTable } from '../../../lib/transport/lean/route-table.js';
import { silentLogger } from '../../support/silent-logger.js';

const FAR_DEADLINE = Number.MAX_SAFE_INTEGER;

function queue(port: number): MessageQueueObject {
  return {
    topic: { name: 'orders' },
    id: 0,
    permission: Permission.READ_WRITE,
    broker: { name: `broker-${port}`, id: 0, endpoints: { addresses: [{ host: '127.0.0.1', port }] } },
    acceptMessageTypes: [MessageType.NORMAL],
  };
}

/** A fake QueryRoute whose answers the test gives, one call at a time. */
function fakeBroker() {
  const calls: { topic: string; answer(queues: MessageQueueObject[]): void; fail(error: Error): void }[] = [];
  const query = (topic: string) =>
    new Promise<readonly MessageQueueObject[]>((resolve, reject) => {
      calls.push({ topic, answer: resolve, fail: reject });
    });
  return { calls, query };
}

function table(query: (topic: string) => Promise<readonly MessageQueueObject[]>) {
  let now = 0;
  const routes = new RouteTable({
    query,
    clock: () => now,
    refreshTimeoutMs: () => 1000,
    logger: silentLogger,
  });
  return {
    routes,
    advance(ms: number) {
      now += ms;
    },
  };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('the lean route table', () => {
  it('shares one lookup between concurrent first sends, then answers from the cache', async () => {
    const broker = fakeBroker();
    const { routes } = table(broker.query);
    expect(routes.cached('orders')).toBeUndefined();
    const first = routes.lookUp('orders', FAR_DEADLINE);
    const second = routes.lookUp('orders', FAR_DEADLINE);
    expect(broker.calls.map((call) => call.topic)).toEqual(['orders']);
    broker.calls[0]?.answer([queue(1)]);
    expect(await first).toBe(await second);
    expect(routes.cached('orders')).toBe(await first);
    expect(broker.calls).toHaveLength(1);
  });

  it('does not keep a failed lookup: the next send asks again', async () => {
    const broker = fakeBroker();
    const { routes } = table(broker.query);
    const failed = routes.lookUp('orders', FAR_DEADLINE);
    broker.calls[0]?.fail(new BrokerStatusError(40402, 'no route'));
    await expect(failed).rejects.toMatchObject({ code: 40402 });
    expect(routes.cached('orders')).toBeUndefined();
    void routes.lookUp('orders', FAR_DEADLINE);
    expect(broker.calls).toHaveLength(2);
  });

  it('refreshes a route older than 30 s once, in the background, keeping it meanwhile', async () => {
    const broker = fakeBroker();
    const { routes, advance } = table(broker.query);
    const lookup = routes.lookUp('orders', FAR_DEADLINE);
    broker.calls[0]?.answer([queue(1)]);
    const original = await lookup;

    advance(30_000);
    expect(routes.cached('orders')).toBe(original);
    expect(broker.calls).toHaveLength(1);
    advance(1);
    expect(routes.cached('orders')).toBe(original);
    expect(routes.cached('orders')).toBe(original);
    expect(broker.calls).toHaveLength(2);

    broker.calls[1]?.answer([queue(1), queue(2)]);
    await settle();
    const refreshed = routes.cached('orders');
    expect(refreshed).not.toBe(original);
    expect(refreshed?.size).toBe(2);
  });

  it('drops a route whose refresh finds the topic gone, and keeps one whose refresh failed otherwise', async () => {
    const broker = fakeBroker();
    const { routes, advance } = table(broker.query);
    const lookup = routes.lookUp('orders', FAR_DEADLINE);
    broker.calls[0]?.answer([queue(1)]);
    const original = await lookup;

    advance(30_001);
    routes.cached('orders');
    broker.calls[1]?.fail(new BrokerStatusError(50001, 'busy'));
    await settle();
    // Still kept, and still old: the next send tries the refresh again.
    expect(routes.cached('orders')).toBe(original);
    expect(broker.calls).toHaveLength(3);

    broker.calls[2]?.fail(new BrokerStatusError(40402, 'no route'));
    await settle();
    expect(routes.cached('orders')).toBeUndefined();
  });

  it('forgets a topic on request', async () => {
    const broker = fakeBroker();
    const { routes } = table(broker.query);
    const lookup = routes.lookUp('orders', FAR_DEADLINE);
    broker.calls[0]?.answer([queue(1)]);
    await lookup;
    routes.forget('orders');
    expect(routes.cached('orders')).toBeUndefined();
  });
});
