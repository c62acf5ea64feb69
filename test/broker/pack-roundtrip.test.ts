import { describe, expect, it } from 'vitest';
import { Packer, unpack } from '../../lib/index.js';
import { useBroker } from '../support/broker-fixture.js';
import { receiveAll, shutDownClientsAfterEach, startConsumer } from './support.js';

const LIMIT = 64 * 1024;

const fixture = useBroker({ maxBodySize: LIMIT });
shutDownClientsAfterEach();

describe('packs through the embedded broker', () => {
  it('a consumer gets every record back, in order, with its keys and properties, through unpack', async () => {
    const producer = fixture.producerFor({ maxBodyBytes: LIMIT });
    const packer = new Packer(producer, { maxRecords: 50 });
    const sent = Array.from({ length: 120 }, (_, i) => ({
      body: { seq: i, text: `record ${i}` },
      keys: [`K_${i}`],
      properties: { parity: i % 2 === 0 ? 'even' : 'odd' },
    }));
    for (const record of sent) packer.add('metrics', record, { tag: 'roundtrip' });
    packer.close();
    await producer.drain();
    // 120 records in 50-record packs: three messages, each with one id and one tag.
    const stored = fixture.broker.messages('metrics').filter((message) => message.tag === 'roundtrip');
    expect(stored.map((message) => message.properties['pack-records'])).toEqual(['50', '50', '20']);
    expect(new Set(stored.map((message) => message.messageId)).size).toBe(3);
    expect(stored[0]?.keys.slice(0, 3)).toEqual(['K_0', 'K_1', 'K_2']);

    const consumer = await startConsumer(fixture.broker, 'pack-reader', { metrics: 'roundtrip' });
    const views = await receiveAll(consumer, 3);
    const records = views
      .flatMap((view) =>
        unpack({ body: view.body, properties: Object.fromEntries(view.properties), keys: view.keys }),
      )
      .map((record) => ({
        body: JSON.parse(record.body.toString()),
        keys: record.keys,
        parity: record.properties.parity,
        type: record.properties['content-type'],
      }));
    expect(records).toEqual(
      sent.map((record) => ({
        body: record.body,
        keys: record.keys,
        parity: record.properties.parity,
        type: 'application/json',
      })),
    );
  });

  it('a pack filled to exactly the body limit is stored whole; the next record starts a new pack', async () => {
    const producer = fixture.producerFor({ maxBodyBytes: LIMIT });
    const packer = new Packer(producer, { maxBytes: LIMIT, maxRecords: 10_000 });
    // 64 records of 1016 bytes plus 8 bytes of framing each: exactly 64 KiB.
    for (let i = 0; i < 64; i++) packer.add('logs', { body: Buffer.alloc(1016, i) }, { tag: 'at-limit' });
    packer.add('logs', { body: Buffer.from('next pack') }, { tag: 'at-limit' });
    packer.close();
    await producer.drain();
    const stored = fixture.broker.messages('logs').filter((message) => message.tag === 'at-limit');
    // Two oneway sends in flight together: they may be stored in either order.
    expect(stored.map((message) => message.body.length).sort((a, b) => b - a)).toEqual([
      LIMIT,
      'next pack'.length,
    ]);
    expect(fixture.broker.stats().rejectedSends).toBe(0);
    const full = stored.find((message) => message.body.length === LIMIT);
    const next = stored.find((message) => message.body.length !== LIMIT);
    const records = unpack({ body: full?.body ?? Buffer.alloc(0), properties: full?.properties });
    expect(records).toHaveLength(64);
    expect(records.every((record, i) => record.body.length === 1016 && record.body[0] === i)).toBe(true);
    // The lone record of the second pack went as a plain message; unpack gives it back the same way.
    expect(
      unpack({ body: next?.body ?? Buffer.alloc(0), properties: next?.properties })[0]?.body.toString(),
    ).toBe('next pack');
  });
});
