import fc from 'fast-check';
import { describe, it } from 'vitest';
import { fromObjectEvent, fromOssEvent, fromS3Event, type ObjectEvent } from '../../lib/triggers/index.js';
import { anyValue, deliver, delivery, mutate, mutations, outcome } from './arbitraries.js';
import { expectValidObjectEvents } from './invariants.js';
import { eventObject } from './load-event.js';

// 2,000 + 1,000 + 1,000 + 3,000 + 3,000 = 10,000 generated cases for the object-event family.

const MAPPERS = [fromObjectEvent, fromOssEvent, fromS3Event] as Array<
  (event: unknown, options?: { maxRecords?: number }) => ObjectEvent[]
>;

describe('object-event mappers on generated input', () => {
  it('map any value to valid events or an EventError', () => {
    fc.assert(
      fc.property(anyValue, (event) => {
        for (const map of MAPPERS)
          outcome(
            () => map(event),
            (events) => expectValidObjectEvents(events),
          );
      }),
      { numRuns: 2000 },
    );
  });

  it('map any JSON text to valid events or an EventError', () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 4 }), (text) => {
        outcome(
          () => fromObjectEvent(text),
          (events) => expectValidObjectEvents(events),
        );
      }),
      { numRuns: 1000 },
    );
  });

  it('map random bytes to valid events or an EventError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        outcome(
          () => fromObjectEvent(Buffer.from(bytes)),
          (events) => expectValidObjectEvents(events),
        );
      }),
      { numRuns: 1000 },
    );
  });

  it.each([
    ['fc/oss-put.json', fromOssEvent],
    ['aws/s3-put.json', fromS3Event],
  ])('map mutations of %s to valid events or an EventError', (name, map) => {
    const base = eventObject(name);
    fc.assert(
      fc.property(mutations, delivery, fc.nat({ max: 4 }), (steps, how, maxRecords) => {
        const event = deliver(mutate(base, steps), how);
        outcome(
          () => map(event as never, { maxRecords }),
          (events) => expectValidObjectEvents(events, maxRecords),
        );
        outcome(
          () => fromObjectEvent(event as never, { maxRecords }),
          (events) => expectValidObjectEvents(events, maxRecords),
        );
      }),
      { numRuns: 3000 },
    );
  });
});
