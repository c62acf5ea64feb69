import type { Logger } from '@aws-lambda-powertools/logger';
import type { MessageView } from 'rocketmq-client-nodejs';
import type { MessageOutcome } from './outcome.js';

/**
 * The end of a poll round: every received message is acked when all its records are done with, or
 * given a new invisible duration with backoff so the broker delivers it again later. Nothing here
 * waits past the poll's deadline: a broker that does not answer in time gets the message back when its
 * receive-time invisible duration ends.
 */

/** What {@link settle} needs of the consumer. */
export interface Settler {
  ack(view: MessageView): Promise<unknown>;
  changeInvisibleDuration(view: MessageView, durationMs: number): Promise<unknown>;
}

export interface SettleCounts {
  acked: number;
  retimed: number;
  unsettled: number;
}

/** Resolves with `work`'s result, or with `fallback` once `deadline` passes; never rejects past it. */
export async function within<T>(work: Promise<T>, deadline: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolveLate) => {
    timer = setTimeout(() => resolveLate(fallback), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether the record of each outcome is done with, or has to come back; a duplicate follows its first. */
export function recordsDone(outcomes: readonly MessageOutcome<unknown>[]): boolean[] {
  const doneById = new Map<string, boolean>();
  return outcomes.map((outcome) => {
    const { messageId, pack } = outcome.message;
    const id = `${messageId ?? ''}#${pack?.index ?? ''}`;
    if (outcome.status === 'duplicate') return doneById.get(id) ?? false;
    const done = outcome.status !== 'failed';
    doneById.set(id, done);
    return done;
  });
}

/** The redelivery delay of a message's `attempt`: base × 2^(attempt − 1), at most `maxMs`. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(30, attempt - 1));
}

/** Acks each view that is `done`, re-times the others, all at once, none waited for past `deadline`. */
export async function settle(
  consumer: Settler,
  views: readonly MessageView[],
  done: readonly boolean[],
  backoff: { backoffBaseMs: number; backoffMaxMs: number },
  deadline: number,
  logger: Logger,
): Promise<SettleCounts> {
  const results = await Promise.all(
    views.map(async (view, index) => {
      const ack = done[index] === true;
      const delay = backoffMs(view.deliveryAttempt ?? 1, backoff.backoffBaseMs, backoff.backoffMaxMs);
      const call = ack ? consumer.ack(view) : consumer.changeInvisibleDuration(view, delay);
      return within<keyof SettleCounts>(
        call.then(
          () => (ack ? 'acked' : 'retimed'),
          (error: unknown) => {
            logger.warn({
              message: ack ? 'ack failed' : 'changeInvisibleDuration failed',
              topic: view.topic,
              messageId: view.messageId,
              error: (error as Error).message,
            });
            return 'unsettled';
          },
        ),
        deadline,
        'unsettled',
      );
    }),
  );
  const counts: SettleCounts = { acked: 0, retimed: 0, unsettled: 0 };
  for (const result of results) counts[result]++;
  return counts;
}
