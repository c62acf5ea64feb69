import type { DrainResult } from './types.js';

/** An async or oneway send that has not settled yet. */
export interface PendingSend {
  readonly mode: 'async' | 'oneway';
  /** Resolves once the send is fully settled: its callback ran (async), or its outcome is counted (oneway). */
  readonly done: Promise<void>;
  /**
   * The drain's expiry time came while the send is open: an async send fails with TIMEOUT (and goes to
   * the spool, if there is one), a oneway send is dropped. Returns whether the send was still open.
   */
  expire(): boolean;
  /**
   * The drain's own deadline came while the send is still settling (its spool write not durable yet):
   * its callback runs now, reporting it not spooled. Returns whether it did so.
   */
  abandon(): boolean;
}

export interface DrainWindow {
  /** Epoch ms at which open sends are expired, leaving time to persist them. */
  expireAt: number;
  /** Epoch ms by which the drain returns, every send settled one way or another. */
  deadline: number;
}

/** Resolves when every send of `batch` settled, or at `until`, whichever comes first. */
async function settledOrAt(batch: readonly PendingSend[], until: number): Promise<void> {
  const remaining = until - Date.now();
  if (remaining <= 0) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(batch.map((send) => send.done)),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, remaining);
    }),
  ]);
  clearTimeout(timer);
}

/**
 * Waits for every pending send, including ones started while waiting, until `expireAt`; then expires
 * what is still open and gives the spool until `deadline` to make those durable; at `deadline` whatever
 * is still settling is reported as not persisted. Never waits past `deadline`: when this returns, every
 * send it saw has had its outcome.
 */
export async function drainPending(
  pending: ReadonlySet<PendingSend>,
  window: DrainWindow,
): Promise<DrainResult> {
  const result: DrainResult = { settled: 0, expiredAsync: 0, droppedOneway: 0, notPersisted: 0 };
  while (pending.size > 0 && Date.now() < window.expireAt) {
    const batch = [...pending];
    await settledOrAt(batch, window.expireAt);
    result.settled += batch.filter((send) => !pending.has(send)).length;
  }
  // Sends started by callbacks while expiring are expired too, until the deadline.
  while (pending.size > 0) {
    const batch = [...pending];
    for (const send of batch) {
      if (!send.expire()) continue;
      if (send.mode === 'async') result.expiredAsync++;
      else result.droppedOneway++;
    }
    if (Date.now() >= window.deadline) break;
    await settledOrAt(batch, window.deadline);
    if (Date.now() >= window.deadline) break;
  }
  for (const send of [...pending]) if (send.abandon()) result.notPersisted++;
  return result;
}
