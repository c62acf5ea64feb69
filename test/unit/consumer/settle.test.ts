import type { MessageView } from 'rocketmq-client-nodejs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { MessageOutcome } from '../../../lib/consumer/outcome.js';
import { backoffMs, recordsDone, type Settler, settle } from '../../../lib/consumer/settle.js';
import { memoryLogger, received } from './fakes.js';

/** The end of a poll round, over a fake consumer: ack what is done, re-time the rest, never wait past the deadline. */

const view = (messageId: string, deliveryAttempt?: number) =>
  ({ topic: 'orders', messageId, deliveryAttempt }) as unknown as MessageView;

/** A fake of the consumer's ack and re-time calls: records them, answers at once, or never / with an error for chosen ids. */
function fakeSettler(options: { hang?: string[]; fail?: string[] } = {}) {
  const calls: string[] = [];
  const answer = (messageId: string) => {
    if (options.hang?.includes(messageId)) return new Promise<void>(() => {});
    if (options.fail?.includes(messageId)) return Promise.reject(new Error('broker said no (fake)'));
    return Promise.resolve();
  };
  const consumer: Settler = {
    ack: (v) => {
      calls.push(`ack ${v.messageId}`);
      return answer(v.messageId);
    },
    changeInvisibleDuration: (v, ms) => {
      calls.push(`retime ${v.messageId} ${ms}`);
      return answer(v.messageId);
    },
  };
  return { consumer, calls };
}

const backoff = { backoffBaseMs: 10_000, backoffMaxMs: 300_000 };

afterEach(() => {
  vi.useRealTimers();
});

describe('settle', () => {
  it('acks what is done and re-times the rest by its delivery attempt', async () => {
    const { consumer, calls } = fakeSettler();
    const counts = await settle(
      consumer,
      [view('a'), view('b', 1), view('c', 3)],
      [true, false, false],
      backoff,
      Date.now() + 10_000,
      memoryLogger().logger,
    );
    expect(calls).toEqual(['ack a', 'retime b 10000', 'retime c 40000']);
    expect(counts).toEqual({ acked: 1, retimed: 2, unsettled: 0 });
  });

  it('a call that fails is logged and unsettled; one that does not answer is unsettled at the deadline', async () => {
    vi.useFakeTimers();
    const { consumer } = fakeSettler({ hang: ['slow'], fail: ['bad'] });
    const { logger, lines } = memoryLogger();
    const settling = settle(
      consumer,
      [view('ok'), view('bad'), view('slow')],
      [true, true, false],
      backoff,
      Date.now() + 300,
      logger,
    );
    await vi.advanceTimersByTimeAsync(300);
    expect(await settling).toEqual({ acked: 1, retimed: 0, unsettled: 2 });
    expect(lines).toEqual([
      expect.objectContaining({ level: 'warn', message: 'ack failed', messageId: 'bad' }),
    ]);
  });
});

describe('backoffMs', () => {
  it('doubles per attempt from the base, up to the max', () => {
    expect([1, 2, 3, 4, 5, 6, 100].map((attempt) => backoffMs(attempt, 10_000, 300_000))).toEqual([
      10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000,
    ]);
  });
});

describe('recordsDone', () => {
  const outcome = (messageId: string, status: MessageOutcome<unknown>['status'], index?: number) =>
    ({
      message: received({
        messageId,
        ...(index !== undefined && { pack: { messageId, index, count: 2 } }),
      }),
      status,
      attempt: 1,
    }) as MessageOutcome<unknown>;

  it('a failed record is not done; a duplicate follows the record it copies; pack records count one by one', () => {
    expect(
      recordsDone([
        outcome('a', 'processed'),
        outcome('b', 'failed'),
        outcome('b', 'duplicate'),
        outcome('a', 'duplicate'),
        outcome('p', 'retried', 0),
        outcome('p', 'failed', 1),
        outcome('p', 'duplicate', 0),
      ]),
    ).toEqual([true, false, false, true, true, false, true]);
  });
});
