import fc from 'fast-check';
import { describe, it } from 'vitest';
import { fromFcTimerEvent, fromScheduledEvent, fromTimerEvent, type Tick } from '../../lib/triggers/index.js';
import { anyValue, deliver, delivery, fieldValue, mutate, mutations, outcome } from './arbitraries.js';
import { expectNoProtoKeys, expectValidTick } from './invariants.js';
import { eventObject } from './load-event.js';

// 2,000 + 1,000 + 1,000 + 2,500 + 2,500 + 1,000 = 10,000 generated cases for the timer family.

const MAPPERS = [fromTimerEvent, fromFcTimerEvent, fromScheduledEvent] as Array<(event: unknown) => Tick>;

describe('timer mappers on generated input', () => {
  it('map any value to a valid tick or an EventError', () => {
    fc.assert(
      fc.property(anyValue, (event) => {
        for (const map of MAPPERS) outcome(() => map(event), expectValidTick);
      }),
      { numRuns: 2000 },
    );
  });

  it('map any JSON text to a valid tick or an EventError', () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 4 }), (text) => {
        outcome(() => fromTimerEvent(text), expectValidTick);
      }),
      { numRuns: 1000 },
    );
  });

  it('map random bytes to a valid tick or an EventError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        outcome(() => fromTimerEvent(Buffer.from(bytes)), expectValidTick);
      }),
      { numRuns: 1000 },
    );
  });

  it.each([
    ['fc/timer.json', fromFcTimerEvent],
    ['aws/schedule.json', fromScheduledEvent],
  ])('map mutations of %s to a valid tick or an EventError', (name, map) => {
    const base = eventObject(name);
    fc.assert(
      fc.property(mutations, delivery, (steps, how) => {
        const event = deliver(mutate(base, steps), how);
        outcome(() => map(event as never), expectValidTick);
        outcome(() => fromTimerEvent(event as never), expectValidTick);
      }),
      { numRuns: 2500 },
    );
  });

  it('parse any FC payload text without __proto__ keys', () => {
    const base = eventObject('fc/timer.json');
    const payloads = fc.oneof(
      fc.json({ maxDepth: 3 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fieldValue,
    );
    fc.assert(
      fc.property(payloads, (payload) => {
        outcome(
          () => fromFcTimerEvent({ ...base, payload } as never),
          (tick) => {
            expectValidTick(tick);
            expectNoProtoKeys(tick.payload);
          },
        );
      }),
      { numRuns: 1000 },
    );
  });
});
