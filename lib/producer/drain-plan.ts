import { ErrorCode, type RocketMQError } from '../errors.js';
import type { LibraryLog } from '../log.js';
import type { PreparedMessage } from '../message.js';
import type { Spool } from '../spool/spool.js';
import type { DrainWindow } from './pending.js';

/** Expiring one send, measured on a loaded 2-core machine: 10–35 µs; the plan learns the real figure. */
const DEFAULT_EXPIRY_COST_MS = 0.03;
/** The shortest silence a drain takes for a stalled broker. */
const MIN_STALL_MS = 20;

/** What the plan needs to know of the producer around it. */
export interface DrainPlanContext {
  spool: Spool | undefined;
  /** The `spoolReserveMs` option. */
  spoolReserveMs: number;
  sendTimeoutMs: number;
  /** How long calls have been on the wire without one succeeding (the send window's `stalledFor`). */
  stalledFor(): number;
}

/**
 * How a drain spends its time so that what it reports is true when it returns: when to expire open
 * sends, when to take the broker for stalled, and how to make expired sends durable in time. It learns
 * from each drain how long expiring a send takes on this machine.
 */
export class DrainPlan {
  readonly #context: DrainPlanContext;
  #expiryCostMs = DEFAULT_EXPIRY_COST_MS;

  constructor(context: DrainPlanContext) {
    this.#context = context;
  }

  /** The window for a drain of `open` sends that must return by `deadline`. */
  window(open: number, deadline: number): DrainWindow {
    return {
      expireAt: deadline - this.#expiryReserve(open, deadline),
      deadline,
      stalled: () => this.#context.stalledFor() >= this.#stallThresholdMs(deadline),
      // Always, even past the deadline: the records are encoded and queued already, one write makes them
      // durable, and a drain that returned without it would leave them to be lost with the instance.
      // The spool's reserve in `expireAt` is what keeps this write inside the bound.
      persistNow: () => this.#context.spool?.flushSync?.(),
      onExpired: (count, ms) => {
        // A slow average: one drain on a briefly busy machine should not halve the next one's sends.
        this.#expiryCostMs = 0.7 * this.#expiryCostMs + 0.3 * (ms / count);
      },
    };
  }

  /**
   * How long before `deadline` a drain must start expiring `open` sends so that expiring them (measured
   * per send) and making their records durable (the spool's reserve, or its own recent flush times if
   * longer) fit before it. At most three quarters of the time left: the sends get at least the rest to
   * finish on their own.
   */
  #expiryReserve(open: number, deadline: number): number {
    const { spool, spoolReserveMs } = this.#context;
    const persisting = spool ? Math.max(spoolReserveMs, spool.flushEstimateMs ?? 0) : 0;
    const wanted = persisting + open * this.#expiryCostMs;
    return Math.min(wanted, Math.max(0, ((deadline - Date.now()) * 3) / 4));
  }

  /**
   * How long the window may go without a successful answer before a drain takes the broker for stalled:
   * an eighth of the time the drain has left, and never past the send timeout. A send still waiting its
   * turn after that silence cannot be relied on to finish; expiring it while nothing of it has gone out
   * leaves the spool the rest of the drain to keep it. On a healthy broker answers keep coming, so a
   * long drain never takes it for stalled.
   */
  #stallThresholdMs(deadline: number): number {
    return Math.min(this.#context.sendTimeoutMs, Math.max(MIN_STALL_MS, (deadline - Date.now()) / 8));
  }
}

/**
 * Writes failed async messages to the spool and tells whether each is durable. A full disk fails every
 * record after the first too: one log line when the spool starts failing, not one per record; it logs
 * again once it has worked in between.
 */
export class SpoolWriter {
  readonly #spool: Spool;
  readonly #logger: LibraryLog;
  #failing = false;

  constructor(spool: Spool, logger: LibraryLog) {
    this.#spool = spool;
    this.#logger = logger;
  }

  /**
   * Hands `message` to the spool and calls `done` once with whether it is durable. Through the spool's
   * `appendThen` when it has one: no promise per record, which is most of what a drain expiring
   * thousands of sends would otherwise spend.
   */
  persist(message: PreparedMessage, error: RocketMQError, done: (spooled: boolean) => void): void {
    const record = { code: error.code, message: error.message };
    try {
      if (this.#spool.appendThen) {
        this.#spool.appendThen(message, record, (failure) => done(this.#outcome(failure, message.topic)));
      } else {
        this.#spool.append(message, record).then(
          () => done(this.#outcome(undefined, message.topic)),
          (failure: unknown) => done(this.#outcome(failure, message.topic)),
        );
      }
    } catch (failure) {
      done(this.#outcome(failure, message.topic));
    }
  }

  /** Whether the record is durable; logs the first of a run of failures. */
  #outcome(spoolError: unknown, topic: string): boolean {
    if (spoolError === undefined) {
      this.#failing = false;
      return true;
    }
    if (!this.#failing) {
      this.#failing = true;
      this.#logger.error({
        message: 'could not spool failed messages',
        code: (spoolError as RocketMQError).code ?? ErrorCode.SPOOL_FAILED,
        topic,
        error: spoolError as Error,
      });
    }
    return false;
  }
}
