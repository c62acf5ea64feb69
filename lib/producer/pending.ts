import type { DrainResult } from './types.js';

/** How long a drain waits for the callbacks and spool writes of the sends it expired. */
const EXPIRY_GRACE_MS = 1000;

/** An async or oneway send that has not settled yet. */
export interface PendingSend {
  mode: 'async' | 'oneway';
  /** Resolves once the send is fully settled (callback delivered, spool written). */
  done: Promise<void>;
  /** Called at a drain deadline; settles the send as timed out if it is still open. */
  expire(): void;
}

/**
 * Waits for every pending send, including ones started while waiting, until `deadline`; then expires
 * what is still open and waits for those to settle (their callbacks and spool writes are local work).
 */
export async function drainPending(
  pending: ReadonlySet<PendingSend>,
  deadline: number,
): Promise<DrainResult> {
  const result: DrainResult = { settled: 0, expiredAsync: 0, droppedOneway: 0 };
  while (pending.size > 0) {
    const remaining = deadline - Date.now();
    const batch = [...pending];
    if (remaining <= 0) {
      for (const send of batch) {
        if (send.mode === 'async') result.expiredAsync++;
        else result.droppedOneway++;
        send.expire();
      }
      // Expiry runs callbacks and spool writes: local work, but a hung disk must not hang the drain.
      let grace: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(batch.map((send) => send.done)),
        new Promise<void>((resolve) => {
          grace = setTimeout(resolve, EXPIRY_GRACE_MS);
        }),
      ]);
      clearTimeout(grace);
      break;
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, remaining);
    });
    await Promise.race([Promise.all(batch.map((send) => send.done)), timedOut]);
    clearTimeout(timer);
    result.settled += batch.filter((send) => !pending.has(send)).length;
  }
  return result;
}
