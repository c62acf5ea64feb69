import { describe, expect, it } from 'vitest';
import { POLL_DEFAULTS, resolvePollOptions } from '../../../lib/consumer/poll-options.js';
import { PROCESS_DEFAULTS, resolveProcessOptions } from '../../../lib/consumer/process-options.js';
import { ErrorCode } from '../../../lib/errors.js';
import { fakeProducer, memoryLogger } from './fakes.js';

/** The consumer's options are checked, and defaulted, before anything is received or run. */

describe('resolveProcessOptions', () => {
  const now = 1_000_000;

  it("reserves a quarter of the time left for forwarding under 'retry-topic', at most 1 s; none under 'throw'", () => {
    const retry = {
      failurePolicy: 'retry-topic' as const,
      retryTopic: 'r',
      deadLetterTopic: 'd',
      producer: fakeProducer().producer,
      logger: memoryLogger().logger,
    };
    expect(resolveProcessOptions({ ...retry, deadline: now + 2000 }, now).handlerDeadline).toBe(now + 1500);
    expect(resolveProcessOptions({ ...retry, deadline: now + 60_000 }, now).handlerDeadline).toBe(
      now + 60_000 - PROCESS_DEFAULTS.maxReserveMs,
    );
    expect(resolveProcessOptions({ ...retry, deadline: now + 2000, reserveMs: 0 }, now).handlerDeadline).toBe(
      now + 2000,
    );
    expect(resolveProcessOptions({ deadline: now + 2000 }, now)).toMatchObject({
      handlerDeadline: now + 2000,
      policy: 'throw',
      concurrency: 1,
      maxAttempts: 3,
    });
  });

  it.each([
    [{ deadline: now, concurrency: 0 }, 'concurrency'],
    [{ deadline: now, maxAttempts: 1.5 }, 'maxAttempts'],
    [{ deadline: now, failurePolicy: 'drop' }, 'failurePolicy'],
    [{ deadline: now, failurePolicy: 'retry-topic', retryTopic: 'r' }, 'deadLetterTopic'],
    [
      { deadline: now, failurePolicy: 'retry-topic', retryTopic: 'r', deadLetterTopic: 'd', reserveMs: -1 },
      'reserveMs',
    ],
    [{ deadline: now, retryTopc: 'r' }, 'retryTopc'],
    [{ deadline: 'soon' }, 'deadline'],
  ])('refuses %o naming %s', (options, field) => {
    expect(() => resolveProcessOptions(options as never, now)).toThrow(
      expect.objectContaining({ code: ErrorCode.CONFIG_INVALID, field }),
    );
  });
});

describe('resolvePollOptions', () => {
  const base = { topic: 'orders', consumerGroup: 'g', handler: () => undefined, deadline: 1 };

  it('fills in the defaults', () => {
    expect(resolvePollOptions(base)).toEqual({
      topic: 'orders',
      consumerGroup: 'g',
      tag: POLL_DEFAULTS.tag,
      maxMessages: POLL_DEFAULTS.maxMessages,
      batchSize: POLL_DEFAULTS.batchSize,
      invisibleDurationMs: POLL_DEFAULTS.invisibleDurationMs,
      awaitDurationMs: POLL_DEFAULTS.awaitDurationMs,
      idleRounds: POLL_DEFAULTS.idleRounds,
      settleReserveMs: POLL_DEFAULTS.settleReserveMs,
      backoffBaseMs: POLL_DEFAULTS.backoffBaseMs,
      backoffMaxMs: POLL_DEFAULTS.backoffMaxMs,
    });
  });

  it.each([
    [{ topic: ' ' }, 'topic'],
    [{ batchSize: 0 }, 'batchSize'],
    [{ settleReserveMs: -1 }, 'settleReserveMs'],
    [{ handler: 'h' }, 'handler'],
    [{ batchsize: 4 }, 'batchsize'],
  ])('refuses %o naming %s', (extra, field) => {
    expect(() => resolvePollOptions({ ...base, ...extra } as never)).toThrow(
      expect.objectContaining({ code: ErrorCode.CONFIG_INVALID, field }),
    );
  });

  it('passes the processor options through, for the processor to check', () => {
    expect(() => resolvePollOptions({ ...base, concurrency: 4, failurePolicy: 'retry-topic' })).not.toThrow();
  });
});
