import { describe, expect, it } from 'vitest';
import { ErrorCode, type SendFailure } from '../../lib/index.js';
import { useBroker } from '../support/broker-fixture.js';

const fixture = useBroker();

describe('deadlines hold everywhere a send can wait', () => {
  it('a send waiting for a slot of the send window fails at its own deadline', async () => {
    const producer = fixture.producerFor({ maxConcurrentSends: 1 });
    await producer.send({ topic: 'orders', body: 'warm-up' });
    fixture.broker.faults.delayMs = 1000;
    const failures: SendFailure[] = [];
    const callback = { onSuccess: () => undefined, onException: (f: SendFailure) => failures.push(f) };
    producer.sendAsync({ topic: 'orders', body: 'holds the slot' }, callback);
    const started = Date.now();
    const waiting = producer
      .sendAsync({ topic: 'orders', body: 'waits' }, { timeoutMs: 100 })
      .catch((e: unknown) => e);
    expect(await waiting).toMatchObject({ code: ErrorCode.TIMEOUT });
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('a broker slower than one attempt slice still gets the send through, answered once', async () => {
    const producer = fixture.producerFor({ sendTimeoutMs: 3000 });
    await producer.send({ topic: 'orders', body: 'warm-up' });
    fixture.broker.faults.delayMs = 1700;
    const started = Date.now();
    const result = await producer.send({ topic: 'orders', keys: ['slow-broker'], body: 'x' });
    expect(Date.now() - started).toBeLessThan(2900);
    expect(fixture.broker.messages('orders').some((m) => m.messageId === result.messageId)).toBe(true);
  });
});

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
