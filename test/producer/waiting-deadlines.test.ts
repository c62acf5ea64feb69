import { describe, expect, it } from 'vitest';
import { ErrorCode, type SendFailure } from '../../lib/index.js';
import { useBroker } from '../support/broker-fixture.js';

const fixture = useBroker();

describe('deadlines hold everywhere a send can wait', () => {
  it('a send waiting for a slot of the send window fails at its own deadline, never sent', async () => {
    const producer = fixture.producerFor({ maxConcurrentSends: 1, sendTimeoutMs: 20_000 });
    await producer.send({ topic: 'orders', body: 'warm-up' });
    fixture.broker.faults.delayMs = 5000;
    const failures: SendFailure[] = [];
    const callback = { onSuccess: () => undefined, onException: (f: SendFailure) => failures.push(f) };
    producer.sendAsync({ topic: 'orders', body: 'holds the slot' }, callback);
    const started = Date.now();
    const waiting = producer
      .sendAsync({ topic: 'orders', keys: ['waited'], body: 'waits' }, { timeoutMs: 100 })
      .catch((e: unknown) => e);
    expect(await waiting).toMatchObject({ code: ErrorCode.TIMEOUT, mayBeStored: false, attempts: 0 });
    // Failed by its own 100 ms, long before the slot came free; a budget a loaded machine keeps.
    expect(Date.now() - started).toBeLessThan(3000);
    fixture.broker.faults.delayMs = 0;
    await producer.drain({ timeoutMs: 20_000 });
    expect(fixture.broker.messages('orders').some((m) => m.keys[0] === 'waited')).toBe(false);
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
