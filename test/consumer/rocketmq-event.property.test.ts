import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReceivedMessage } from '../../lib/consumer/received.js';
import { fromRocketMQEvent } from '../../lib/triggers/index.js';
import { anyValue, deliver, delivery, mutate, mutations, outcome } from '../triggers/arbitraries.js';
import { eventObject, type JsonObject } from '../triggers/load-event.js';

// 2,000 + 1,000 + 1,000 + 3 × 2,000 + 1,000 = 11,000 generated and mutated events.

function expectValidMessages(messages: ReceivedMessage[]): void {
  expect(messages.length).toBeGreaterThan(0);
  for (const message of messages) {
    expect(message).toBeInstanceOf(ReceivedMessage);
    expect(typeof message.topic).toBe('string');
    expect(message.topic).not.toBe('');
    expect(message.body).toBeInstanceOf(Uint8Array);
    expect(Object.getPrototypeOf(message.userProperties)).toBeNull();
    expect(Object.getPrototypeOf(message.systemProperties)).toBeNull();
    for (const value of Object.values(message.userProperties)) expect(typeof value).toBe('string');
    for (const value of Object.values(message.systemProperties)) {
      expect(['string', 'number', 'boolean']).toContain(typeof value);
    }
    for (const key of message.keys) expect(key).toMatch(/^\S+$/);
    if (message.messageId !== undefined) expect(message.messageId).not.toBe('');
    if (message.traceparent !== undefined)
      expect(message.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-/);
    // Decoding on request never throws anything but an EventError.
    outcome(
      () => message.json(),
      () => undefined,
    );
    JSON.stringify(message);
  }
}

const FIXTURES = [
  'fc/rocketmq-orders.json',
  'fc/rocketmq-orders-rawdata.json',
  'fc/rocketmq-selfmanaged.json',
];

describe('fromRocketMQEvent on generated input', () => {
  it('maps any value to messages or an EventError', () => {
    fc.assert(
      fc.property(anyValue, (event) => outcome(() => fromRocketMQEvent(event as never), expectValidMessages)),
      { numRuns: 2000 },
    );
  });

  it('maps any JSON text to messages or an EventError', () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 4 }), (text) =>
        outcome(() => fromRocketMQEvent(text), expectValidMessages),
      ),
      { numRuns: 1000 },
    );
  });

  it('maps random bytes to messages or an EventError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) =>
        outcome(() => fromRocketMQEvent(Buffer.from(bytes)), expectValidMessages),
      ),
      { numRuns: 1000 },
    );
  });

  it.each(FIXTURES)('maps mutations of %s to messages or an EventError, all or nothing', (name) => {
    const base = eventObject(name);
    const size = (base as unknown as unknown[]).length;
    fc.assert(
      fc.property(mutations, delivery, fc.boolean(), (steps, how, base64) => {
        const event = deliver(mutate(base, steps), how);
        outcome(
          () => fromRocketMQEvent(event as never, base64 ? { bodyEncoding: 'base64' } : undefined),
          (messages) => {
            expectValidMessages(messages);
            // A mutation may replace the batch by one entry, never drop entries silently.
            expect([1, size]).toContain(messages.length);
          },
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('maps generated well-formed CloudEvents batches to exactly their messages', () => {
    const entry = fc.record({
      topic: fc.stringMatching(/^[a-zA-Z0-9_-]{1,20}$/),
      body: fc.string({ maxLength: 64 }),
      id: fc.uuid(),
      tag: fc.option(fc.stringMatching(/^[A-Za-z]{1,8}$/), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 20 }), delivery, (entries, how) => {
        const [sample] = eventObject('fc/rocketmq-orders.json') as unknown as JsonObject[];
        const event = entries.map((e) => ({
          ...sample,
          id: e.id,
          data: {
            topic: e.topic,
            systemProperties: e.tag === undefined ? {} : { TAGS: e.tag },
            userProperties: {},
            body: e.body,
          },
        }));
        const messages = fromRocketMQEvent(deliver(event as never, how) as never);
        expect(messages.map((m) => [m.topic, m.text(), m.messageId, m.tag])).toEqual(
          entries.map((e) => [e.topic, e.body, e.id, e.tag]),
        );
      }),
      { numRuns: 1000 },
    );
  });
});
