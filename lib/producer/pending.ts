import type { DrainResult } from './types.js';

/** An async or oneway send that has not settled yet. */
export interface PendingSend {
  readonly mode: 'async' | 'oneway';
  /** Resolves once the send is fully settled: its callback ran (async), or its outcome is counted (oneway). */
  readonly done: Promise<void>;
  /** Whether it still waits for its turn: open, and nothing of it has gone on the wire. */
  readonly waiting: boolean;
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

/**
 * Where else a producer counts a pending send, e.g. with the invocation that started it, so that a
 * platform can drain one request's sends (`drain({ sends })`) without the producer knowing what a
 * request is. Called when a send becomes pending; returns what to call once it settled.
 */
export type SendTracker = (send: PendingSend) => (() => void) | undefined;

export interface DrainWindow {
  /** Epoch ms at which open sends are expired, leaving time to persist them. */
  expireAt: number;
  /** Epoch ms by which the drain returns, every send settled one way or another. */
  deadline: number;
  /**
   * Whether the broker has stopped answering: no send on the wire succeeded for a while. Sends still
   * waiting for their turn then cannot go out before the deadline, and are expired at once, which gives
   * the spool the rest of the drain to make them durable.
   */
  stalled?(): boolean;
  /** Makes what expiring handed to the spool durable at once (see `Spool.flushSync`). */
  persistNow?(): void;
  /** Told how long expiring took, so that the next drain can start expiring early enough. */
  onExpired?(count: number, ms: number): void;
}

/**
 * Sends expired between two turns of the event loop. Large on purpose: a spool write needs several turns
 * to finish, and under a CPU-bound expiry each turn waits for a whole chunk, so small chunks only delay
 * the write; one turn every few thousand keeps timers from starving.
 */
const EXPIRY_CHUNK = 2048;
/** How often a drain looks whether the broker stalled, while sends wait for their turn. */
const STALL_POLL_MS = 10;

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
 * Waits for every pending send, including ones started while waiting, until `expireAt` (sends still
 * waiting for their turn are expired earlier when the broker stalls); then expires what is still open
 * and gives the spool until `deadline` to make those durable; at `deadline` whatever is still settling
 * is reported as not persisted. Never waits past `deadline`: when this returns, every send it saw has
 * had its outcome.
 */
export async function drainPending(
  pending: ReadonlySet<PendingSend>,
  window: DrainWindow,
): Promise<DrainResult> {
  const result: DrainResult = { settled: 0, expiredAsync: 0, droppedOneway: 0, notPersisted: 0 };
  const expired = new Set<PendingSend>();

  const expireAll = async (sends: readonly PendingSend[]) => {
    const started = performance.now();
    let count = 0;
    for (let from = 0; from < sends.length; from += EXPIRY_CHUNK) {
      // Between chunks the spool gets to start writing what the chunks before produced.
      if (from > 0) await new Promise((resolve) => setImmediate(resolve));
      for (const send of sends.slice(from, from + EXPIRY_CHUNK)) {
        if (!send.expire()) continue;
        expired.add(send);
        count++;
        if (send.mode === 'async') result.expiredAsync++;
        else result.droppedOneway++;
      }
      // The spool writes this chunk's records before the next chunk adds more.
      if (count > 0) window.persistNow?.();
    }
    if (count > 0) window.onExpired?.(count, performance.now() - started);
  };

  while (pending.size > 0 && Date.now() < window.expireAt) {
    const batch = [...pending];
    const waiting = window.stalled !== undefined && batch.some((send) => send.waiting);
    await settledOrAt(
      batch,
      waiting ? Math.min(window.expireAt, Date.now() + STALL_POLL_MS) : window.expireAt,
    );
    for (const send of batch) if (!pending.has(send) && !expired.has(send)) result.settled++;
    if (waiting && window.stalled?.()) await expireAll([...pending].filter((send) => send.waiting));
  }
  // Sends started by callbacks while expiring are expired too, until the deadline.
  while (pending.size > 0) {
    const batch = [...pending];
    await expireAll(batch);
    if (Date.now() >= window.deadline) break;
    await settledOrAt(batch, window.deadline);
    if (Date.now() >= window.deadline) break;
  }
  for (const send of [...pending]) if (send.abandon()) result.notPersisted++;
  return result;
}
