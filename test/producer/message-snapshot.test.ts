import { describe, expect, it } from 'vitest';
import { useBroker } from '../support/broker-fixture.js';

const fixture = useBroker();

describe('messages are the caller’s snapshot', () => {
  it('reusing one keys array across async sends does not change messages in flight', async () => {
    const producer = fixture.producerFor();
    const keys = ['K0'];
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < 3; i++) {
      keys[0] = `REUSED_${i}`;
      sends.push(producer.sendAsync({ topic: 'orders', keys, body: `${i}` }));
    }
    await Promise.all(sends);
    const stored = fixture.broker.messages('orders').filter((m) => m.keys[0]?.startsWith('REUSED_'));
    expect(stored.map((m) => m.keys[0]).sort()).toEqual(['REUSED_0', 'REUSED_1', 'REUSED_2']);
  });
});
