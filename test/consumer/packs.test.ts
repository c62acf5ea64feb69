import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pollMessages, processMessages, shutdownSharedConsumer } from '../../lib/consumer/index.js';
import { Packer, type Producer } from '../../lib/index.js';
import { fromRocketMQEvent } from '../../lib/triggers/index.js';
import { useBroker } from '../support/broker-fixture.js';
import { memoryLogger } from '../unit/consumer/fakes.js';

/** Packs from lib/pack/ reach handlers as their records, through the trigger and the pull consumer. */

const fixture = useBroker({ newGroupStart: 'last', topics: { packed: 'NORMAL' } });
let producer: Producer;

beforeEach(() => {
  producer = fixture.producerFor();
});
afterEach(() => shutdownSharedConsumer());

const TRACE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

async function sendPack(bodies: string[]): Promise<void> {
  const packer = new Packer(producer, { mode: 'async', maxRecords: bodies.length });
  for (const [i, body] of bodies.entries()) {
    packer.add('packed', { body, keys: [`K${i}`], properties: { traceparent: TRACE } }, { tag: 'metric' });
  }
  await producer.drain();
}

describe('packs on the consume side', () => {
  it('the trigger event of a pack gives its records, each marked with its place', async () => {
    await sendPack(['one', 'two', 'three']);
    const stored = fixture.broker.messages('packed').at(-1);
    if (!stored) throw new Error('the pack was not stored');
    const event = [
      {
        topic: 'packed',
        systemProperties: { TAGS: 'metric', UNIQ_KEY: stored.messageId },
        userProperties: stored.properties,
        // Small records keep every frame length below 0x80, so the pack is valid UTF-8 text.
        body: stored.body.toString('utf8'),
      },
    ];
    const records = fromRocketMQEvent(JSON.stringify(event));
    expect(records.map((r) => [r.text(), r.keys, r.pack])).toEqual([
      ['one', ['K0'], { messageId: stored.messageId, index: 0, count: 3 }],
      ['two', ['K1'], { messageId: stored.messageId, index: 1, count: 3 }],
      ['three', ['K2'], { messageId: stored.messageId, index: 2, count: 3 }],
    ]);
    expect(records.every((r) => r.traceparent === TRACE && r.tag === 'metric')).toBe(true);
    // Records of one pack share a message id, yet none is a duplicate of another.
    const report = await processMessages(records, () => undefined, {
      deadline: Date.now() + 5000,
      logger: memoryLogger().logger,
    });
    expect(report).toMatchObject({ processed: 3, duplicates: 0 });
  });

  it('a pack damaged on the way is a bad event, nothing processed', () => {
    const event = [
      {
        topic: 'packed',
        systemProperties: {},
        userProperties: {
          'content-type': 'application/vnd.rocketmq-serverless.pack',
          'pack-format': '1',
          'pack-records': '2',
        },
        body: '\u0000\u0000',
      },
    ];
    expect(() => fromRocketMQEvent(event as never)).toThrow(/invalid pack/);
  });

  it('the pull consumer processes each record and acks the pack once all of them are done', async () => {
    const consumerGroup = 'packs-pull';
    const poll = (handler: (text: string) => void) =>
      pollMessages({
        topic: 'packed',
        consumerGroup,
        client: { endpoints: fixture.broker.endpoint },
        deadline: Date.now() + 5000,
        awaitDurationMs: 200,
        backoffBaseMs: 10_000,
        logger: memoryLogger().logger,
        handler: (message) => handler(message.text()),
      });
    await poll(() => undefined);
    await sendPack(['a', 'b', 'c', 'd']);
    const seen: string[] = [];
    const report = await poll((text) => {
      seen.push(text);
      if (text === 'c') throw new Error('one record fails');
    });
    expect(seen).toEqual(['a', 'b', 'c', 'd']);
    // One broker message: re-timed as a whole because one of its records failed.
    expect(report).toMatchObject({ received: 1, processed: 3, failed: 1, acked: 0, retimed: 1 });
  });
});
