import { describe, expect, it } from 'vitest';
import { ErrorCode, MessageValidationError, validateMessage } from '../../lib/index.js';
import { withProperties } from '../../lib/message.js';

function validationError(run: () => unknown): MessageValidationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(MessageValidationError);
    return error as MessageValidationError;
  }
  throw new Error('expected a validation error');
}

describe('validateMessage', () => {
  it('encodes string, byte and JSON bodies', () => {
    expect(validateMessage({ topic: 'orders', body: 'héllo' }).body.toString('utf8')).toBe('héllo');
    const bytes = new Uint8Array([1, 2, 3]);
    const prepared = validateMessage({ topic: 'orders', body: bytes });
    expect([...prepared.body]).toEqual([1, 2, 3]);
    bytes[0] = 9;
    expect(prepared.body[0]).toBe(1);
    const json = validateMessage({ topic: 'orders', body: { orderId: 7, items: ['a'] } });
    expect(JSON.parse(json.body.toString())).toEqual({ orderId: 7, items: ['a'] });
    expect(json.properties['content-type']).toBe('application/json');
  });

  it('keeps tag, keys, properties, group and delivery time', () => {
    const at = new Date(Date.now() + 60_000);
    const prepared = validateMessage({
      topic: 'delay-topic',
      tag: 'TagA',
      keys: ['ORDERID_1', 'USER_2'],
      properties: { region: 'cn-hangzhou' },
      body: 'x',
      deliveryTimestamp: at,
    });
    expect(prepared).toMatchObject({
      tag: 'TagA',
      keys: ['ORDERID_1', 'USER_2'],
      deliveryTimestamp: at.getTime(),
    });
    expect(prepared.properties.region).toBe('cn-hangzhou');
    expect(validateMessage({ topic: 'orders', keys: 'ORDERID_1', body: 'x' }).keys).toEqual(['ORDERID_1']);
    expect(validateMessage({ topic: 'fifo-topic', messageGroup: 'g1', body: 'x' }).messageGroup).toBe('g1');
  });

  it.each<[object, string]>([
    [{ topic: '', body: 'x' }, 'topic'],
    [{ topic: 'bad topic', body: 'x' }, 'topic'],
    [{ topic: 'a'.repeat(128), body: 'x' }, 'topic'],
    [{ topic: 'orders', tag: 'a||b', body: 'x' }, 'tag'],
    [{ topic: 'orders', tag: '  ', body: 'x' }, 'tag'],
    [{ topic: 'orders', keys: ['ok', 'has space'], body: 'x' }, 'keys[1]'],
    [{ topic: 'orders', keys: [''], body: 'x' }, 'keys[0]'],
    [{ topic: 'orders', properties: { UNIQ_KEY: 'x' }, body: 'x' }, 'properties.UNIQ_KEY'],
    [{ topic: 'orders', properties: { 'bad key': 'x' }, body: 'x' }, 'properties.bad key'],
    [{ topic: 'orders', properties: { n: 1 }, body: 'x' }, 'properties.n'],
    [{ topic: 'orders', body: undefined }, 'body'],
    [{ topic: 'orders', body: 42 }, 'body'],
    [{ topic: 'orders', messageGroup: 'g', deliveryTimestamp: Date.now(), body: 'x' }, 'deliveryTimestamp'],
    [{ topic: 'orders', deliveryTimestamp: Number.NaN, body: 'x' }, 'deliveryTimestamp'],
    [{ topic: 'orders', messageGroup: 'g'.repeat(64), body: 'x' }, 'messageGroup'],
    // 30 CJK characters are 90 bytes: the proxy counts bytes.
    [{ topic: 'orders', messageGroup: '组'.repeat(30), body: 'x' }, 'messageGroup'],
    [{ topic: 'orders', messageGroup: 'g\u0000', body: 'x' }, 'messageGroup'],
    [{ topic: 'orders', body: 'x', tags: 'typo' }, 'tags'],
    // Control characters, as the proxy's GrpcValidator defines them (U+0000–U+001F, U+007F–U+009F).
    [{ topic: 'orders', tag: 'a\u0001b', body: 'x' }, 'tag'],
    [{ topic: 'orders', tag: 'a\nb', body: 'x' }, 'tag'],
    [{ topic: 'orders', tag: 'a\u007fb', body: 'x' }, 'tag'],
    [{ topic: 'orders', keys: ['k\u0000'], body: 'x' }, 'keys[0]'],
    [{ topic: 'orders', keys: ['ok', 'k\u001b'], body: 'x' }, 'keys[1]'],
    [{ topic: 'orders', keys: ['k\u0085'], body: 'x' }, 'keys[0]'],
    [{ topic: 'orders', properties: { note: 'line\nbreak' }, body: 'x' }, 'properties.note'],
    [{ topic: 'orders', properties: { note: '\u009f' }, body: 'x' }, 'properties.note'],
    // Reserved names the proxy rejects, and the name the proxy stores the message group under.
    ...[
      'CLUSTER',
      'MSG_TYPE',
      '__BORNHOST',
      'BORN_TIMESTAMP',
      'DUP_INFO',
      'POP_CK',
      'TIMER_ENQUEUE_MS',
      'EXTEND_UNIQ_INFO',
      '__SHARDINGKEY',
      '__RMQ.TRANSIENT.x',
    ].map((name): [object, string] => [
      { topic: 'orders', properties: { [name]: 'v' }, body: 'x' },
      `properties.${name}`,
    ]),
    [{ topic: 'orders', body: '' }, 'body'],
    [{ topic: 'orders', body: new Uint8Array() }, 'body'],
    [{ topic: 'orders', body: 'x', allowEmptyBody: 'yes' }, 'allowEmptyBody'],
  ])('rejects %j at field %s', (message, field) => {
    const error = validationError(() => validateMessage(message as never));
    expect(error.code).toBe(ErrorCode.MESSAGE_INVALID);
    expect(error.field).toBe(field);
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(field.split(/[.[]/)[0]);
  });

  it('rejects bodies over the limit with MESSAGE_TOO_LARGE, and accepts exactly the limit', () => {
    const limit = { maxBodyBytes: 1024 };
    expect(validateMessage({ topic: 'orders', body: Buffer.alloc(1024) }, limit).body.length).toBe(1024);
    const error = validationError(() =>
      validateMessage({ topic: 'orders', body: Buffer.alloc(1025) }, limit),
    );
    expect(error.code).toBe(ErrorCode.MESSAGE_TOO_LARGE);
    const fourMiB = validationError(() =>
      validateMessage({ topic: 'orders', body: Buffer.alloc(4 * 1024 * 1024 + 1) }),
    );
    expect(fourMiB.message).toContain('4194304');
  });

  it('counts properties, tag and keys against the 16 KiB the proxy allows, after adding content-type', () => {
    const fits = {
      topic: 'orders',
      tag: 'tag',
      keys: ['k'.repeat(8 * 1024)],
      properties: { p: 'v'.repeat(8 * 1024 - 4) },
      body: 'x',
    };
    expect(validateMessage(fits).keys[0]).toHaveLength(8 * 1024);
    const over = validationError(() => validateMessage({ ...fits, tag: 'tagX' }));
    expect(over).toMatchObject({ code: ErrorCode.MESSAGE_INVALID, field: 'properties' });
    expect(over.message).toContain('16385 bytes');
    // 20 KiB of keys alone used to pass.
    expect(
      validationError(() => validateMessage({ topic: 'orders', keys: ['k'.repeat(20 * 1024)], body: 'x' }))
        .field,
    ).toBe('properties');
    // The content-type property added for a JSON body counts too, and so does its place among the 128.
    // 'content-type' + 'application/json' is 28 bytes: text fits, JSON is one byte over.
    const almost = { topic: 'orders', properties: { p: 'v'.repeat(16 * 1024 - 28) } };
    expect(() => validateMessage({ ...almost, body: 'text' })).not.toThrow();
    expect(validationError(() => validateMessage({ ...almost, body: { json: true } })).field).toBe(
      'properties',
    );
    const many = Object.fromEntries(Array.from({ length: 128 }, (_, i) => [`p${i}`, 'v']));
    expect(() => validateMessage({ topic: 'orders', properties: many, body: 'text' })).not.toThrow();
    expect(
      validationError(() => validateMessage({ topic: 'orders', properties: many, body: {} })).message,
    ).toContain('at most 128');
  });

  it('withProperties makes a new message, checked again, and leaves the prepared one as it was', () => {
    const prepared = validateMessage({
      topic: 'orders',
      properties: { p: 'v'.repeat(16 * 1024 - 1 - 60) },
      body: 'x',
    });
    const traceparent = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`;
    const error = validationError(() => withProperties(prepared, { ...prepared.properties, traceparent }));
    expect(error).toMatchObject({ code: ErrorCode.MESSAGE_INVALID, field: 'properties', topic: 'orders' });
    const small = validateMessage({ topic: 'orders', properties: { p: 'v' }, body: 'x' });
    const traced = withProperties(small, { ...small.properties, traceparent });
    expect(traced).not.toBe(small);
    expect(traced.properties).toEqual({ p: 'v', traceparent });
    expect(small.properties).toEqual({ p: 'v' });
    expect(withProperties(small, { p: 'v' })).toBe(small);
  });

  it('a prepared message is frozen: writing to it throws instead of changing a message in flight', () => {
    const prepared = validateMessage({ topic: 'orders', keys: ['k'], properties: { p: 'v' }, body: 'x' });
    expect(() => {
      (prepared.properties as Record<string, string>).traceparent = 'x';
    }).toThrow(TypeError);
    expect(() => (prepared.keys as string[]).push('more')).toThrow(TypeError);
    expect(() => {
      (prepared as { topic: string }).topic = 'other';
    }).toThrow(TypeError);
    expect(prepared).toMatchObject({ topic: 'orders', keys: ['k'], properties: { p: 'v' } });
  });

  it('accepts a 63-byte message group and an empty body only when allowEmptyBody is set', () => {
    expect(
      validateMessage({ topic: 'fifo-topic', messageGroup: 'g'.repeat(63), body: 'x' }).messageGroup,
    ).toHaveLength(63);
    expect(
      validateMessage({ topic: 'fifo-topic', messageGroup: '组'.repeat(21), body: 'x' }).messageGroup,
    ).toHaveLength(21);
    expect(validateMessage({ topic: 'orders', body: '', allowEmptyBody: true }).body.length).toBe(0);
    const error = validationError(() => validateMessage({ topic: 'orders', body: '' }));
    expect(error.message).toContain('allowEmptyBody');
  });

  it('rejects bodies that cannot be serialized as JSON, with the cause', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const error = validationError(() => validateMessage({ topic: 'orders', body: cyclic }));
    expect(error.cause).toBeInstanceOf(TypeError);
  });

  it('does not let a __proto__ property reach Object.prototype', () => {
    const properties = JSON.parse('{"__proto__": "polluted", "a": "b"}');
    const prepared = validateMessage({ topic: 'orders', body: 'x', properties });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
    expect(prepared.properties.a).toBe('b');
  });
});
