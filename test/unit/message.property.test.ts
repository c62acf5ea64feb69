import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Transport } from '../../lib/entries/advanced.js';
import {
  createProducer,
  ErrorCode,
  MessageValidationError,
  type PreparedMessage,
  validateMessage,
} from '../../lib/index.js';
import { hasControlCharacter, RESERVED_PROPERTY_NAMES } from '../../lib/message.js';

const RUNS = 10_000;
const LIMITS = { maxBodyBytes: 256 };

/** Every control character the proxy rejects (U+0000–U+001F, U+007F–U+009F). */
const controlCharacter = fc
  .oneof(fc.integer({ min: 0, max: 0x1f }), fc.integer({ min: 0x7f, max: 0x9f }))
  .map((code) => String.fromCharCode(code));
/** A plausible value with a control character somewhere in it. */
const withControlCharacter = fc
  .tuple(
    fc.stringMatching(/^[a-zA-Z0-9_-]{0,8}$/),
    controlCharacter,
    fc.stringMatching(/^[a-zA-Z0-9_-]{0,8}$/),
  )
  .map(([before, control, after]) => `${before}${control}${after}`);
const reservedName = fc.constantFrom(...RESERVED_PROPERTY_NAMES);

/** Strings on the edges of the naming rules, mixed with arbitrary ones. */
const edgyString = fc.oneof(
  withControlCharacter,
  reservedName,
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom(
    '',
    ' ',
    'orders',
    'a||b',
    'a|b',
    'ORDERID_1',
    'has space',
    '\t',
    '%RETRY%g',
    'x'.repeat(128),
  ),
  fc.stringMatching(/^[%a-zA-Z0-9_-]{1,12}$/),
);
const anyValue = fc.anything({
  maxDepth: 2,
  withNullPrototype: true,
  withBoxedValues: true,
  withTypedArray: true,
});
const bodyValue = fc.oneof(
  edgyString,
  fc.uint8Array({ maxLength: 300 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })),
  anyValue,
);
const maybe = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });

/** Message-shaped input: mostly valid field names with hostile values, sometimes extra fields. */
const messageLike = fc.record(
  {
    topic: fc.oneof(edgyString, anyValue),
    tag: maybe(fc.oneof(edgyString, anyValue)),
    keys: maybe(fc.oneof(edgyString, fc.array(edgyString, { maxLength: 4 }), anyValue)),
    properties: maybe(
      fc.oneof(fc.dictionary(edgyString, fc.oneof(edgyString, anyValue), { maxKeys: 4 }), anyValue),
    ),
    body: bodyValue,
    messageGroup: maybe(fc.oneof(edgyString, anyValue)),
    deliveryTimestamp: maybe(fc.oneof(fc.integer(), fc.date(), fc.double(), anyValue)),
    extra: maybe(anyValue),
  },
  { requiredKeys: ['topic', 'body'] },
);

/** What every message that passed validation must satisfy; a half-valid message fails here. */
function assertWellFormed(prepared: PreparedMessage): void {
  expect(prepared.topic).toMatch(/^[%a-zA-Z0-9_-]{1,127}$/);
  if (prepared.tag !== undefined) {
    expect(prepared.tag.trim()).not.toBe('');
    expect(prepared.tag).not.toContain('|');
    expect(hasControlCharacter(prepared.tag)).toBe(false);
  }
  for (const key of prepared.keys) {
    expect(key).toMatch(/^\S+$/);
    expect(hasControlCharacter(key)).toBe(false);
  }
  let propertyBytes = Buffer.byteLength(prepared.tag ?? '');
  for (const key of prepared.keys) propertyBytes += Buffer.byteLength(key);
  for (const [key, value] of Object.entries(prepared.properties)) {
    expect(typeof value).toBe('string');
    expect(RESERVED_PROPERTY_NAMES.has(key)).toBe(false);
    expect(hasControlCharacter(key) || hasControlCharacter(value)).toBe(false);
    propertyBytes += Buffer.byteLength(key) + Buffer.byteLength(value);
  }
  expect(propertyBytes).toBeLessThanOrEqual(16 * 1024);
  expect(Object.keys(prepared.properties).length).toBeLessThanOrEqual(128);
  if (prepared.messageGroup !== undefined) {
    expect(Buffer.byteLength(prepared.messageGroup)).toBeLessThan(64);
    expect(hasControlCharacter(prepared.messageGroup)).toBe(false);
  }
  expect(Buffer.isBuffer(prepared.body)).toBe(true);
  expect(prepared.body.length).toBeGreaterThan(0);
  expect(prepared.body.length).toBeLessThanOrEqual(LIMITS.maxBodyBytes);
  expect(prepared.messageGroup === undefined || prepared.deliveryTimestamp === undefined).toBe(true);
}

/** A message every rule accepts, to spoil one field of. */
const validMessage = fc.record({
  topic: fc.stringMatching(/^[a-zA-Z0-9_-]{1,20}$/),
  tag: fc.stringMatching(/^[a-zA-Z0-9_-]{1,10}$/),
  keys: fc.array(fc.stringMatching(/^[a-zA-Z0-9_-]{1,10}$/), { maxLength: 3 }),
  properties: fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/), fc.stringMatching(/^[ -~]{0,10}$/), {
    maxKeys: 3,
  }),
  body: fc.string({ minLength: 1, maxLength: 20 }),
  messageGroup: fc.stringMatching(/^[a-zA-Z0-9_-]{1,20}$/),
});

/** One field made invalid the way the proxy would reject it: a control character or a reserved name. */
const spoiled = fc.oneof(
  fc
    .tuple(validMessage, withControlCharacter)
    .map(([m, bad]) => ({ message: { ...m, tag: bad }, field: 'tag' })),
  fc
    .tuple(validMessage, withControlCharacter)
    .map(([m, bad]) => ({ message: { ...m, keys: [...m.keys, bad] }, field: `keys[${m.keys.length}]` })),
  fc.tuple(validMessage, withControlCharacter).map(([m, bad]) => ({
    message: { ...m, properties: { ...m.properties, zz: bad } },
    field: 'properties.zz',
  })),
  fc
    .tuple(validMessage, reservedName)
    .map(([m, name]) => ({ message: { ...m, properties: { [name]: 'v' } }, field: `properties.${name}` })),
  fc
    .tuple(validMessage, withControlCharacter)
    .map(([m, bad]) => ({ message: { ...m, messageGroup: bad }, field: 'messageGroup' })),
);

describe('validateMessage on generated input', () => {
  it(`either returns a well-formed message or throws a typed validation error (${RUNS} cases)`, () => {
    fc.assert(
      fc.property(messageLike, (message) => {
        let prepared: PreparedMessage | undefined;
        try {
          prepared = validateMessage(message as never, LIMITS);
        } catch (error) {
          expect(error).toBeInstanceOf(MessageValidationError);
          const { code, field, message: text } = error as MessageValidationError;
          expect([ErrorCode.MESSAGE_INVALID, ErrorCode.MESSAGE_TOO_LARGE]).toContain(code);
          expect(typeof field).toBe('string');
          expect(text.length).toBeGreaterThan(10);
          return;
        }
        assertWellFormed(prepared);
      }),
      { numRuns: RUNS },
    );
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it(`rejects a control character or reserved name in any field, naming that field (${RUNS} cases)`, () => {
    fc.assert(
      fc.property(spoiled, ({ message, field }) => {
        expect(() => validateMessage(message)).toThrow(MessageValidationError);
        try {
          validateMessage(message);
        } catch (error) {
          expect((error as MessageValidationError).field).toBe(field);
          expect((error as MessageValidationError).code).toBe(ErrorCode.MESSAGE_INVALID);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('JSON with __proto__ and constructor keys never reaches Object.prototype', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 2 }), fc.string({ maxLength: 8 }), (value, text) => {
        const hostile = JSON.parse(
          `{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"v":${JSON.stringify(value)}}`,
        );
        validateMessage({
          topic: 'orders',
          body: hostile,
          properties: JSON.parse(`{"__proto__":"${text.length}","a":"b"}`),
        });
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: 1000 },
    );
  });
});

describe('the producer never sends a half-valid message', () => {
  it(`hands the transport only well-formed messages, and nothing for invalid ones (${RUNS} cases)`, async () => {
    const handed: PreparedMessage[] = [];
    // A recording fake transport: no broker is needed to check what reaches the wire.
    const recordingTransport: Transport = {
      generation: 0,
      answers: 0,
      send: async (message) => {
        handed.push(message);
        return { messageId: 'FAKE', offset: 0 };
      },
      reset: () => false,
      forgetTopic: () => undefined,
      warmUp: async () => undefined,
      close: async () => undefined,
    };
    const producer = createProducer({
      endpoints: 'fake:1',
      maxBodyBytes: LIMITS.maxBodyBytes,
      transportFactory: () => recordingTransport,
    });
    await fc.assert(
      fc.asyncProperty(messageLike, async (message) => {
        const before = handed.length;
        const outcome = await producer.send(message as never).then(
          () => 'sent',
          (error: unknown) => error,
        );
        if (outcome === 'sent') {
          expect(handed.length).toBe(before + 1);
          assertWellFormed(handed[handed.length - 1] as PreparedMessage);
        } else {
          expect(outcome).toBeInstanceOf(MessageValidationError);
          expect(handed.length).toBe(before);
        }
      }),
      { numRuns: RUNS },
    );
    await producer.shutdown();
  });
});
