import { rejectUnknownKeys } from '../config.js';
import { ConfigError, ErrorCode, RocketMQError, withoutStack } from '../errors.js';

/** Caller-facing bound of a send or a drain: an absolute epoch-ms `deadline`, or `timeoutMs` from now. */
export interface DeadlineOptions {
  /** Absolute deadline in epoch milliseconds (e.g. from the platform's remaining time). */
  deadline?: number;
  /** Relative bound in milliseconds; the earlier of the two wins when both are given. */
  timeoutMs?: number;
}

const DEADLINE_KEYS = new Set(['deadline', 'timeoutMs']);
const DRAIN_KEYS = new Set([...DEADLINE_KEYS, 'sends']);

/** Rejects a typo (`{ timeout: 5000 }`) or a non-number, which would otherwise fall back silently. */
export function checkDeadlineOptions(options: DeadlineOptions | undefined, where: string): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object') {
    throw new ConfigError(`${where} options must be an object`);
  }
  rejectUnknownKeys(options, where === 'drain' ? DRAIN_KEYS : DEADLINE_KEYS, where);
  const sends = (options as { sends?: unknown }).sends;
  if (sends !== undefined && !(sends instanceof Set)) {
    throw new ConfigError(`${where} option sends must be a Set of pending sends`);
  }
  for (const key of DEADLINE_KEYS) {
    const value = (options as Record<string, unknown>)[key];
    if (value !== undefined && (typeof value !== 'number' || Number.isNaN(value))) {
      throw new ConfigError(`${where} option ${key} must be a number of milliseconds`);
    }
  }
}

/** The earliest of `fallbackMs` from now and whatever the caller asked for. */
export function resolveDeadline(
  options: DeadlineOptions | undefined,
  fallbackMs: number,
  now = Date.now(),
): number {
  let deadline = now + fallbackMs;
  if (options?.timeoutMs !== undefined) deadline = Math.min(deadline, now + options.timeoutMs);
  if (options?.deadline !== undefined) deadline = Math.min(deadline, options.deadline);
  return deadline;
}

/**
 * The bound of an async send: the caller's, holding from now (and never past `sendTimeoutMs` from
 * now); without one, `Infinity`: only its wait for room is bounded, and its send timeout starts when it
 * goes on the wire.
 */
export function asyncDeadline(options: DeadlineOptions | undefined, sendTimeoutMs: number): number {
  const explicit = options?.deadline !== undefined || options?.timeoutMs !== undefined;
  return explicit ? resolveDeadline(options, sendTimeoutMs) : Number.POSITIVE_INFINITY;
}

/**
 * A plain timer on purpose: a send waiting out its backoff is work in progress, and an unref'd timer
 * would let a script exit in the middle of it (the wait is bounded by the send's deadline anyway).
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Waits for `work` until `deadline` and resolves whether it settled (either way) in time. The work is
 * not cancelled; the timer is cleared when the work wins and, unless `keepAlive`, never keeps the
 * process alive. For bounds on local work at the end of an instance's life: closing a client, shutdown
 * hooks, a last redelivery; a drain keeps the process alive while it waits for its sends.
 */
export async function settledBy(
  work: Promise<unknown>,
  deadline: number,
  keepAlive = false,
): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const inTime = await Promise.race([
    work.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
      if (!keepAlive) timer.unref();
    }),
  ]);
  clearTimeout(timer);
  return inTime;
}

/**
 * Settles with `work`, or rejects with a TIMEOUT error when `deadline` passes first. The work is not
 * cancelled (the client has no cancellation); its late outcome is ignored.
 */
export function withDeadline<T>(work: Promise<T>, deadline: number, topic: string): Promise<T> {
  const remaining = deadline - Date.now();
  if (remaining <= 0) {
    work.catch(() => undefined);
    return Promise.reject(timeoutError(topic));
  }
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(timeoutError(topic)), remaining);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * A send that ran out of time. `onWire` says whether its request may have reached the broker: a send
 * that timed out waiting for its turn never did, and says so.
 */
export function timeoutError(topic: string, what = 'send', onWire = true): RocketMQError {
  const outcome = onWire
    ? 'the message may or may not have been stored'
    : 'it was never sent, so the broker did not store it';
  return new RocketMQError(
    ErrorCode.TIMEOUT,
    `${what} to ${topic} did not finish before its deadline; ${outcome}`,
    { topic, mayBeStored: onWire },
  );
}

/** Expiry errors by topic and whether the send was on the wire; emptied when it grows this large. */
const EXPIRY_ERRORS_MAX = 256;
const expiryErrors = new Map<string, RocketMQError>();

/**
 * The TIMEOUT of a send that a drain expired: one frozen error per topic and kind, shared by the sends
 * a drain expires — it is only the cause their outcomes record; the error each callback is given is
 * its own copy (see `tellCallback`). Its stack would only show the drain's timer, and a drain may
 * expire thousands of sends against its deadline: making an error for each was a large part of it.
 */
export function expiryError(topic: string, onWire: boolean): RocketMQError {
  const key = `${onWire ? 'wire' : 'wait'}:${topic}`;
  let error = expiryErrors.get(key);
  if (error === undefined) {
    if (expiryErrors.size >= EXPIRY_ERRORS_MAX) expiryErrors.clear();
    error = Object.freeze(withoutStack(() => timeoutError(topic, 'async send', onWire)));
    expiryErrors.set(key, error);
  }
  return error;
}
