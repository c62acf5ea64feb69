import { afterEach, describe, expect, it, vi } from 'vitest';
import { PACK_CONTENT_TYPE, type Transport } from '../../lib/entries/advanced.js';
import {
  createProducer,
  ErrorCode,
  EventError,
  MessageValidationError,
  Packer,
  type PreparedMessage,
  type Producer,
  unpack,
} from '../../lib/index.js';

/** A recording fake transport: what reaches the wire, with no broker behind it. */
function recordingProducer(maxBodyBytes = 4 * 1024 * 1024): { producer: Producer; sent: PreparedMessage[] } {
  const sent: PreparedMessage[] = [];
  const transport: Transport = {
    generation: 0,
    answers: 0,
    send: async (message) => {
      sent.push(message);
      return { messageId: `FAKE${sent.length}`, offset: sent.length };
    },
    reset: () => false,
    forgetTopic: () => undefined,
    warmUp: async () => undefined,
    close: async () => undefined,
  };
  const producer = createProducer({ endpoints: 'fake:1', maxBodyBytes, transportFactory: () => transport });
  opened.push(producer);
  return { producer, sent };
}

const opened: Producer[] = [];
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(opened.splice(0).map((producer) => producer.shutdown({ timeoutMs: 1000 })));
});

describe('Packer', () => {
  it('packs the records of one topic and tag into one message that unpack turns back into them', async () => {
    const { producer, sent } = recordingProducer();
    const packer = new Packer(producer);
    packer.add('metrics', { body: { name: 'a', value: 1 }, keys: ['a'] }, { tag: 'process' });
    packer.add('metrics', { body: 'plain text', properties: { unit: 'ms' } }, { tag: 'process' });
    packer.add('metrics', { body: new Uint8Array([0, 1, 2]), keys: 'b' }, { tag: 'process' });
    expect(packer.pendingRecords).toBe(3);
    await producer.drain();
    expect(sent).toHaveLength(1);
    const [pack] = sent;
    expect(pack).toMatchObject({ topic: 'metrics', tag: 'process', keys: ['a', 'b'] });
    expect(pack?.properties).toMatchObject({
      'content-type': PACK_CONTENT_TYPE,
      'pack-format': '1',
      'pack-records': '3',
    });
    const records = unpack({ body: pack?.body ?? new Uint8Array(), properties: pack?.properties });
    expect(records.map((record) => record.pack)).toEqual([
      { index: 0, count: 3 },
      { index: 1, count: 3 },
      { index: 2, count: 3 },
    ]);
    expect(JSON.parse(records[0]?.body.toString() ?? '')).toEqual({ name: 'a', value: 1 });
    expect(records[0]?.properties['content-type']).toBe('application/json');
    expect(records[0]?.keys).toEqual(['a']);
    expect(records[1]).toMatchObject({ keys: [], properties: { unit: 'ms' } });
    expect(records[1]?.body.toString()).toBe('plain text');
    expect([...(records[2]?.body ?? [])]).toEqual([0, 1, 2]);
    expect(records[2]?.keys).toEqual(['b']);
    expect(packer.pendingRecords).toBe(0);
  });

  it('keeps one pack per topic and tag, and sends a lone record as a plain message', async () => {
    const { producer, sent } = recordingProducer();
    const packer = new Packer(producer);
    packer.add('logs', { body: 'i1' }, { tag: 'INFO' });
    packer.add('logs', { body: 'e1', keys: ['req-1'] }, { tag: 'ERROR' });
    packer.add('logs', { body: 'i2' }, { tag: 'INFO' });
    packer.add('metrics', { body: 'm1' });
    expect(packer.flush()).toBe(3);
    await producer.drain();
    const byDestination = Object.fromEntries(
      sent.map((message) => [`${message.topic}/${message.tag}`, message]),
    );
    expect(Object.keys(byDestination).sort()).toEqual(['logs/ERROR', 'logs/INFO', 'metrics/undefined']);
    expect(byDestination['logs/INFO']?.properties['pack-records']).toBe('2');
    // One record: a plain message with its own keys, which unpack returns as that same record.
    const lone = byDestination['logs/ERROR'];
    expect(lone).toMatchObject({ keys: ['req-1'] });
    expect(lone?.properties['pack-format']).toBeUndefined();
    const [record] = unpack({
      body: lone?.body ?? new Uint8Array(),
      properties: lone?.properties,
      keys: lone?.keys,
    });
    expect(record).toMatchObject({ keys: ['req-1'], pack: undefined });
    expect(record?.body.toString()).toBe('e1');
  });

  it('flushes by record count and by bytes, and never makes a pack larger than maxBytes', async () => {
    const { producer, sent } = recordingProducer();
    const byCount = new Packer(producer, { maxRecords: 3 });
    for (let i = 0; i < 7; i++) byCount.add('metrics', { body: `r${i}` });
    expect(sent).toHaveLength(0);
    await vi.waitFor(() => expect(sent).toHaveLength(2));
    expect(sent.map((message) => message.properties['pack-records'])).toEqual(['3', '3']);
    expect(byCount.pendingRecords).toBe(1);
    byCount.close();
    await producer.drain();
    expect(sent.map((message) => message.body.toString())).toContain('r6');

    sent.length = 0;
    // Each record is 8 bytes of framing plus 92 of body: 10 fill a 1000-byte pack exactly.
    const bySize = new Packer(producer, { maxBytes: 1000 });
    for (let i = 0; i < 25; i++) bySize.add('metrics', { body: 'x'.repeat(92) });
    bySize.close();
    await producer.drain();
    expect(sent.map((message) => message.body.length)).toEqual([1000, 1000, 500]);
    expect(sent.map((message) => unpack(message).length)).toEqual([10, 10, 5]);
  });

  it('flushes an open pack maxAgeMs after its first record', async () => {
    vi.useFakeTimers();
    const { producer, sent } = recordingProducer();
    const packer = new Packer(producer, { maxAgeMs: 500 });
    packer.add('metrics', { body: 'a' });
    packer.add('metrics', { body: 'b' });
    vi.advanceTimersByTime(499);
    expect(packer.pendingRecords).toBe(2);
    vi.advanceTimersByTime(1);
    expect(packer.pendingRecords).toBe(0);
    vi.useRealTimers();
    await producer.drain();
    expect(sent.map((message) => message.properties['pack-records'])).toEqual(['2']);
  });

  it('rejects at add a record that could never be sent, and adds nothing', () => {
    const { producer } = recordingProducer(1024);
    const packer = new Packer(producer);
    const attempt = (run: () => void) => {
      try {
        run();
      } catch (error) {
        expect(error).toBeInstanceOf(MessageValidationError);
        return error as MessageValidationError;
      }
      throw new Error('expected a validation error');
    };
    expect(attempt(() => packer.add('metrics', { body: 'x' }, { tag: 'a\nb' })).field).toBe('tag');
    expect(attempt(() => packer.add('metrics', { body: 'x', keys: ['k\u0000'] })).field).toBe('keys[0]');
    expect(attempt(() => packer.add('bad topic', { body: 'x' })).field).toBe('topic');
    expect(attempt(() => packer.add('metrics', { body: 'x', properties: { UNIQ_KEY: 'v' } })).field).toBe(
      'properties.UNIQ_KEY',
    );
    // Within the producer's 1 KiB body limit, the record with its framing must fit.
    expect(attempt(() => packer.add('metrics', { body: 'x'.repeat(1020) })).code).toBe(
      ErrorCode.MESSAGE_TOO_LARGE,
    );
    expect(packer.pendingRecords).toBe(0);
    expect(() => new Packer(producer, { maxBytes: 2048 })).toThrow(/over the producer's maxBodyBytes 1024/);
    expect(() => new Packer(producer, { maxRecords: 0 })).toThrow(/maxRecords/);
  });

  it('flushes at every drain and stops after close', async () => {
    const { producer, sent } = recordingProducer();
    const packer = new Packer(producer);
    packer.add('metrics', { body: 'a' });
    await producer.drain();
    expect(sent).toHaveLength(1);
    packer.add('metrics', { body: 'b' });
    packer.close();
    expect(() => packer.add('metrics', { body: 'c' })).toThrow(/closed/);
    await producer.drain();
    expect(sent).toHaveLength(2);
  });
});

describe('Packer failures', () => {
  it('mode async hands packs to sendAsync and reports a failed one to onError with its record count', async () => {
    const failures: { code: string; records: number }[] = [];
    // A fake transport whose every send fails with a broker verdict (not retried).
    const transport: Transport = {
      generation: 0,
      answers: 0,
      send: async () => {
        throw Object.assign(new Error('[request-id=x, response-code=40402] no such topic'), { code: 40402 });
      },
      reset: () => false,
      forgetTopic: () => undefined,
      warmUp: async () => undefined,
      close: async () => undefined,
    };
    const producer = createProducer({ endpoints: 'fake:1', transportFactory: () => transport });
    opened.push(producer);
    const packer = new Packer(producer, {
      mode: 'async',
      onError: (error, pack) => failures.push({ code: error.code, records: pack.records }),
    });
    for (let i = 0; i < 3; i++) packer.add('metrics', { body: `r${i}` });
    await producer.drain();
    expect(failures).toEqual([{ code: ErrorCode.TOPIC_NOT_FOUND, records: 3 }]);
    expect(producer.stats().async.failed).toBe(1);
  });

  it('a flush on a closed producer reports PRODUCER_CLOSED instead of throwing', async () => {
    const { producer } = recordingProducer();
    const failures: string[] = [];
    const packer = new Packer(producer, { onError: (error) => failures.push(error.code) });
    packer.add('metrics', { body: 'late' });
    await producer.shutdown();
    // shutdown drained, so the record went out; a record added now meets a closed producer.
    packer.add('metrics', { body: 'after shutdown' });
    expect(() => packer.flush()).not.toThrow();
    expect(failures).toEqual([ErrorCode.PRODUCER_CLOSED]);
  });
});

describe('unpack', () => {
  it('passes a message that is not a pack through as one record', () => {
    const records = unpack({ body: Buffer.from('hello'), properties: { region: 'x' }, keys: ['k'] });
    expect(records).toEqual([
      { body: Buffer.from('hello'), keys: ['k'], properties: { region: 'x' }, pack: undefined },
    ]);
  });

  it('gives packed records the message properties under their own, without the pack markers', async () => {
    const { producer, sent } = recordingProducer();
    const packer = new Packer(producer, { properties: { origin: 'pack', shared: 'pack' } });
    packer.add('metrics', { body: 'a', properties: { shared: 'record' } });
    packer.add('metrics', { body: '' });
    packer.close();
    await producer.drain();
    const records = unpack(sent[0] as PreparedMessage);
    expect(records.map((record) => record.properties)).toEqual([
      { origin: 'pack', shared: 'record' },
      { origin: 'pack', shared: 'pack' },
    ]);
    expect(records[1]?.body.length).toBe(0);
  });

  it('throws EVENT_INVALID for a truncated, miscounted or newer pack', async () => {
    const { producer, sent } = recordingProducer();
    const packer = new Packer(producer);
    packer.add('metrics', { body: 'abc', keys: ['k'] });
    packer.add('metrics', { body: 'def' });
    packer.close();
    await producer.drain();
    const pack = sent[0] as PreparedMessage;
    const bad = (body: Uint8Array, properties: Record<string, string>) => {
      try {
        unpack({ body, properties });
      } catch (error) {
        expect(error).toBeInstanceOf(EventError);
        expect((error as EventError).code).toBe(ErrorCode.EVENT_INVALID);
        return (error as EventError).message;
      }
      throw new Error('expected unpack to throw');
    };
    expect(bad(pack.body.subarray(0, pack.body.length - 1), pack.properties)).toContain('truncated');
    expect(bad(pack.body, { ...pack.properties, 'pack-records': '3' })).toContain('the body holds 2');
    expect(bad(pack.body, { ...pack.properties, 'pack-format': '2' })).toContain('format "2"');
    const garbled = Buffer.from(pack.body);
    garbled.writeUInt32BE(3, 0);
    expect(bad(garbled, pack.properties)).toMatch(/record header|truncated/);
  });
});
