import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Admission, AdmissionGate, type Lease, type Refusal } from '../../../lib/producer/admission.js';

const SEND_TIMEOUT_MS = 1000;

/** Records what the gate answered one send. */
function asker(name: string, log: string[]): Admission & { lease?: Lease; refusal?: Refusal } {
  const admission: Admission & { lease?: Lease; refusal?: Refusal } = {
    admitted(lease) {
      admission.lease = lease;
      log.push(name);
    },
    refused(reason) {
      admission.refusal = reason;
      log.push(`${name}:${reason}`);
    },
  };
  return admission;
}

function gate(limits: Partial<ConstructorParameters<typeof AdmissionGate>[0]> = {}) {
  return new AdmissionGate(
    { maxInFlight: 100, maxInFlightBytes: 1000, maxConcurrentSends: 100, ...limits },
    SEND_TIMEOUT_MS,
  );
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('admission gate: room in memory', () => {
  it('drops at once past maxInFlight, without a lease, and admits again once room comes free', () => {
    const log: string[] = [];
    const g = gate({ maxInFlight: 2 });
    const a = asker('a', log);
    g.acquire(1, Infinity, 'drop', a);
    g.acquire(1, Infinity, 'drop', asker('b', log));
    expect(g.acquire(1, Infinity, 'drop', asker('c', log))).toBeUndefined();
    a.lease?.release(true);
    g.acquire(1, Infinity, 'drop', asker('d', log));
    expect(log).toEqual(['a', 'b', 'c:full', 'd']);
  });

  it('makes waiting sends wait for room in order, however the room comes free', () => {
    const log: string[] = [];
    const g = gate({ maxInFlight: 1 });
    const first = asker('first', log);
    g.acquire(1, Infinity, 'wait', first);
    const waiting = ['w1', 'w2', 'w3'].map((name) => {
      const a = asker(name, log);
      g.acquire(1, Infinity, 'wait', a);
      return a;
    });
    expect(log).toEqual(['first']);
    first.lease?.release(true);
    waiting[0]?.lease?.release(false);
    waiting[1]?.lease?.release(true);
    expect(log).toEqual(['first', 'w1', 'w2', 'w3']);
  });

  it('refuses a send still waiting for room at its deadline, or after sendTimeoutMs without one', () => {
    const log: string[] = [];
    const g = gate({ maxInFlight: 1 });
    g.acquire(1, Infinity, 'wait', asker('holder', log));
    g.acquire(1, Date.now() + 100, 'wait', asker('short', log));
    g.acquire(1, Infinity, 'wait', asker('unbounded', log));
    vi.advanceTimersByTime(99);
    expect(log).toEqual(['holder']);
    vi.advanceTimersByTime(1);
    expect(log).toEqual(['holder', 'short:full']);
    vi.advanceTimersByTime(SEND_TIMEOUT_MS - 101);
    expect(log).toEqual(['holder', 'short:full']);
    vi.advanceTimersByTime(1);
    expect(log).toEqual(['holder', 'short:full', 'unbounded:full']);
  });

  it('lets a message larger than the byte bound go alone, and never lets smaller ones overtake it', () => {
    const log: string[] = [];
    const g = gate({ maxInFlightBytes: 100 });
    const small = asker('small', log);
    g.acquire(10, Infinity, 'wait', small);
    const large = asker('large', log);
    g.acquire(500, Infinity, 'wait', large);
    g.acquire(10, Infinity, 'wait', asker('behind', log));
    expect(log).toEqual(['small']);
    small.lease?.release(true);
    expect(log).toEqual(['small', 'large']);
    large.lease?.release(true);
    expect(log).toEqual(['small', 'large', 'behind']);
  });

  it('a send that leaves the queue frees the way for those behind it', () => {
    const log: string[] = [];
    const g = gate({ maxInFlight: 1 });
    const holder = asker('holder', log);
    g.acquire(1, Infinity, 'wait', holder);
    const leaver = asker('leaver', log);
    const lease = g.acquire(1, Infinity, 'wait', leaver);
    g.acquire(1, Infinity, 'wait', asker('next', log));
    expect(lease?.waiting).toBe(true);
    lease?.release();
    expect(lease?.waiting).toBe(false);
    holder.lease?.release(true);
    expect(log).toEqual(['holder', 'next']);
  });
});

describe('admission gate: slots on the wire', () => {
  it('puts at most maxConcurrentSends on the wire, the rest in order as slots free', () => {
    const log: string[] = [];
    const g = gate({ maxConcurrentSends: 2 });
    const sends = Array.from({ length: 5 }, (_, i) => {
      const a = asker(`s${i}`, log);
      g.acquire(1, Infinity, 'wait', a);
      return a;
    });
    expect(log).toEqual(['s0', 's1']);
    sends[1]?.lease?.release(true);
    expect(log).toEqual(['s0', 's1', 's2']);
    sends[0]?.lease?.release(true);
    sends[2]?.lease?.release(true);
    expect(log).toEqual(['s0', 's1', 's2', 's3', 's4']);
  });

  it('refuses a send waiting for a slot at its own deadline, and one that is past it at once', () => {
    const log: string[] = [];
    const g = gate({ maxConcurrentSends: 1 });
    g.acquire(1, Infinity, 'wait', asker('holder', log));
    g.acquire(1, Date.now() + 50, 'wait', asker('bounded', log));
    g.acquire(1, Date.now() - 1, 'wait', asker('late', log));
    expect(log).toEqual(['holder', 'late:deadline']);
    vi.advanceTimersByTime(50);
    expect(log).toEqual(['holder', 'late:deadline', 'bounded:deadline']);
  });

  it('takes the wire for stalled when no call succeeded for sendTimeoutMs; answers keep it alive', () => {
    const log: string[] = [];
    const g = gate({ maxConcurrentSends: 1 });
    const first = asker('first', log);
    g.acquire(1, Infinity, 'wait', first);
    const second = asker('second', log);
    g.acquire(1, Infinity, 'wait', second);
    vi.advanceTimersByTime(SEND_TIMEOUT_MS - 1);
    first.lease?.release(true);
    expect(log).toEqual(['first', 'second']);
    g.acquire(1, Infinity, 'wait', asker('third', log));
    vi.advanceTimersByTime(SEND_TIMEOUT_MS - 1);
    expect(log).toEqual(['first', 'second']);
    expect(g.stalledFor()).toBe(SEND_TIMEOUT_MS - 1);
    vi.advanceTimersByTime(1);
    expect(log).toEqual(['first', 'second', 'third:stalled']);
    // A failed answer is no sign of life, but it frees the slot.
    second.lease?.release(false);
    expect(g.stalledFor()).toBe(0);
  });

  it('holds room for a send waiting for a slot, and gives it back when that send is refused', () => {
    const log: string[] = [];
    const g = gate({ maxConcurrentSends: 1, maxInFlight: 2 });
    g.acquire(1, Infinity, 'wait', asker('wire', log));
    g.acquire(1, Date.now() + 10, 'wait', asker('slot', log));
    expect(g.acquire(1, Infinity, 'drop', asker('dropped', log))).toBeUndefined();
    vi.advanceTimersByTime(10);
    g.acquire(1, Infinity, 'drop', asker('room-again', log));
    expect(log).toEqual(['wire', 'dropped:full', 'slot:deadline']);
    // room-again holds room and waits for the one slot.
    expect(g.acquire(1, Infinity, 'drop', asker('full-again', log))).toBeUndefined();
  });
});

describe('admission gate: sends that leave as they are admitted', () => {
  it('10,000 queued sends that each release at once when admitted (expired meanwhile) do not nest on the stack', () => {
    const g = gate({ maxInFlight: 20_000, maxInFlightBytes: 1e9, maxConcurrentSends: 1 });
    const first = asker('first', []);
    g.acquire(1, Infinity, 'wait', first);
    let admitted = 0;
    for (let i = 0; i < 10_000; i++) {
      g.acquire(1, Infinity, 'wait', {
        admitted(lease) {
          admitted++;
          lease.release();
        },
        refused() {
          throw new Error('no send is refused here');
        },
      });
    }
    const last = asker('last', []);
    g.acquire(1, Infinity, 'wait', last);
    expect(() => first.lease?.release(true)).not.toThrow();
    expect(admitted).toBe(10_000);
    // The one after them gets its turn in the same pass.
    expect(last.lease?.waiting).toBe(false);
    expect(g.stalledFor()).toBe(0);
  });
});
