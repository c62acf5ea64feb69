import { ErrorCode, RocketMQError } from '../errors.js';
import { runWithTraceparent } from '../trace-context.js';
import type { MessageHandler, Slot } from './outcome.js';
import type { ResolvedProcessOptions } from './process-options.js';
import type { ReceivedMessage } from './received.js';

/**
 * Running a batch's handlers: in batch order, at most `concurrency` at once, the messages of one FIFO
 * message group one after another (and after a failure, the rest of that group not at all), nothing
 * started past the handler deadline, and a handler still running then abandoned with TIMEOUT.
 */

const MAX_TIMER_MS = 2 ** 31 - 1;

class TimeoutError extends RocketMQError {
  override readonly name: string = 'TimeoutError';
}

type RunResult<R> = { ok: true; result: R } | { ok: false; error: unknown };
const LATE = Symbol('late');

/**
 * The batch's handler deadline: one timer and one abort signal for every handler of the batch (they
 * share the deadline), and a promise that settles when it passes.
 */
function deadlineWatch(deadline: number) {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<typeof LATE>((resolve) => {
    timer = setTimeout(
      () => {
        controller.abort(
          new TimeoutError(ErrorCode.TIMEOUT, 'the handler did not finish before the deadline'),
        );
        resolve(LATE);
      },
      // setTimeout fires at once past 2^31 - 1 ms; a deadline that far away is as good as none.
      Math.min(MAX_TIMER_MS, Math.max(0, deadline - Date.now())),
    );
  });
  return { signal: controller.signal, expired, stop: () => clearTimeout(timer) };
}

function timedOut(message: ReceivedMessage, why: string): RocketMQError {
  return new TimeoutError(ErrorCode.TIMEOUT, why, {
    topic: message.topic,
    ...(message.messageId !== undefined && { messageId: message.messageId }),
  });
}

/** Runs one handler, settled by its own result or by the handler deadline, whichever comes first. */
async function runOne<R>(
  message: ReceivedMessage,
  handler: MessageHandler<R>,
  attempt: number,
  deadline: number,
  watch: ReturnType<typeof deadlineWatch>,
): Promise<RunResult<R>> {
  const run = (async (): Promise<RunResult<R>> => {
    try {
      const result = await runWithTraceparent(message.traceparent, () =>
        handler(message, { attempt, deadline, signal: watch.signal }),
      );
      return { ok: true, result };
    } catch (error) {
      return { ok: false, error };
    }
  })();
  const outcome = await Promise.race([run, watch.expired]);
  if (outcome !== LATE) return outcome;
  return { ok: false, error: timedOut(message, 'the handler did not finish before the deadline') };
}

/** Runs the handlers: in order, at most `concurrency` at once, one at a time per message group. */
export async function runHandlers<R>(
  slots: Slot<R>[],
  handler: MessageHandler<R>,
  options: ResolvedProcessOptions,
): Promise<void> {
  const busyGroups = new Set<string>();
  const failedGroups = new Set<string>();
  const started = new Array<boolean>(slots.length).fill(false);
  // Every slot before `next` has started; a slot after it may have started ahead of a blocked group.
  let next = 0;
  let left = slots.length;
  let running = 0;
  const watch = deadlineWatch(options.handlerDeadline);
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (next < slots.length && started[next]) next++;
      for (let index = next; index < slots.length && running < options.concurrency; index++) {
        if (started[index]) continue;
        const slot = slots[index] as Slot<R>;
        const group = slot.message.messageGroup;
        if (group !== undefined && busyGroups.has(group)) continue;
        started[index] = true;
        left--;
        if (group !== undefined && failedGroups.has(group)) {
          fail(slot, timedOut(slot.message, `an earlier message of group ${group} failed`), true);
          continue;
        }
        if (Date.now() >= options.handlerDeadline) {
          fail(slot, timedOut(slot.message, 'not started: the invocation deadline was reached'), true);
          continue;
        }
        running++;
        if (group !== undefined) busyGroups.add(group);
        void runOne(slot.message, handler, slot.attempt, options.handlerDeadline, watch).then((result) => {
          running--;
          if (group !== undefined) busyGroups.delete(group);
          if (result.ok) {
            slot.outcome = {
              message: slot.message,
              status: 'processed',
              attempt: slot.attempt,
              result: result.result,
            };
          } else {
            fail(slot, result.error, false);
            if (group !== undefined) failedGroups.add(group);
          }
          pump();
        });
      }
      if (running === 0 && left === 0) resolve();
    };
    const fail = (slot: Slot<R>, error: unknown, spared: boolean) => {
      slot.outcome = { message: slot.message, status: 'failed', attempt: slot.attempt, error };
      slot.spared = spared;
    };
    pump();
  });
  watch.stop();
}
