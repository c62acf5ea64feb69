import { settledBy } from './deadline.js';
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

/** How often a drain looks whether the broker stalled, while sends wait for their turn. */
const STALL_POLL_MS = 10;

/** One promise for a whole batch, made once: polling must not wrap thousands of sends every few ms. */
function allSettled(batch: readonly PendingSend[]): Promise<unknown> {
  return Promise.all(batch.map((send) => send.done));
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

  // Synchronous on purpose: callbacks of expired sends (microtasks) run only once every record they
  // report on is durable, with one synchronous write for all of them.
  const expireAll = (sends: readonly PendingSend[]) => {
    const started = performance.now();
    let count = 0;
    for (const send of sends) {
      if (!send.expire()) continue;
      expired.add(send);
      count++;
      if (send.mode === 'async') result.expiredAsync++;
      else result.droppedOneway++;
    }
    if (count === 0) return;
    window.persistNow?.();
    window.onExpired?.(count, performance.now() - started);
  };

  while (pending.size > 0 && Date.now() < window.expireAt) {
    const batch = [...pending];
    const settled = allSettled(batch);
    for (;;) {
      const waiting = window.stalled !== undefined && batch.some((send) => send.waiting);
      const until = waiting ? Math.min(window.expireAt, Date.now() + STALL_POLL_MS) : window.expireAt;
      if ((await settledBy(settled, until, true)) || Date.now() >= window.expireAt) break;
      if (waiting && window.stalled?.()) expireAll([...pending].filter((send) => send.waiting));
    }
    for (const send of batch) if (!pending.has(send) && !expired.has(send)) result.settled++;
  }
  // Sends started by callbacks while expiring are expired too, until the deadline.
  while (pending.size > 0) {
    const batch = [...pending];
    expireAll(batch);
    if (Date.now() >= window.deadline) break;
    await settledBy(allSettled(batch), window.deadline, true);
    if (Date.now() >= window.deadline) break;
  }
  // Records made durable by the last expiry are told so on the next microtask (GroupCommit.takeAll):
  // let that run first, so that a send whose record is on disk is never reported as not persisted.
  await Promise.resolve();
  for (const send of [...pending]) if (send.abandon()) result.notPersisted++;
  return result;
}
