/**
 * Bounds what async and oneway sends may hold in memory at once: a function that fans out faster than
 * the broker answers must not grow without limit. Sync sends are bounded by their callers awaiting them.
 */
export interface InFlightLimits {
  /** Async and oneway sends handed to the transport and not answered yet. @default 10_000 */
  maxInFlight?: number;
  /** Their body bytes. @default 64 MiB */
  maxInFlightBytes?: number;
  /** Of those, how many calls may be on the wire at once; the others wait their turn. @default 128 */
  maxConcurrentSends?: number;
}

export const IN_FLIGHT_DEFAULTS: Required<InFlightLimits> = {
  maxInFlight: 10_000,
  maxInFlightBytes: 64 * 1024 * 1024,
  maxConcurrentSends: 128,
};

interface Waiter {
  bytes: number;
  grant: () => void;
}

export class InFlightLimiter {
  readonly #limits: Pick<Required<InFlightLimits>, 'maxInFlight' | 'maxInFlightBytes'>;
  readonly #waiters: Waiter[] = [];
  #count = 0;
  #bytes = 0;

  constructor(limits: Pick<Required<InFlightLimits>, 'maxInFlight' | 'maxInFlightBytes'>) {
    this.#limits = limits;
  }

  /** A message larger than the byte bound alone still goes when nothing else is in flight. */
  #fits(bytes: number): boolean {
    if (this.#count >= this.#limits.maxInFlight) return false;
    return this.#count === 0 || this.#bytes + bytes <= this.#limits.maxInFlightBytes;
  }

  /** Takes a slot if one is free now and nobody is queued before us. */
  tryAcquire(bytes: number): boolean {
    if (this.#waiters.length > 0 || !this.#fits(bytes)) return false;
    this.#count++;
    this.#bytes += bytes;
    return true;
  }

  /**
   * Queues for a slot; `grant` runs once one is taken for the caller. Returns a function that leaves the
   * queue (for a caller whose deadline passed first) and reports whether it was still waiting.
   */
  enqueue(bytes: number, grant: () => void): () => boolean {
    const waiter: Waiter = { bytes, grant };
    this.#waiters.push(waiter);
    return () => {
      const index = this.#waiters.indexOf(waiter);
      if (index < 0) return false;
      this.#waiters.splice(index, 1);
      return true;
    };
  }

  release(bytes: number): void {
    this.#count--;
    this.#bytes -= bytes;
    // First come, first served: a large message at the head waits rather than being overtaken forever.
    while (this.#waiters.length > 0 && this.#fits(this.#waiters[0]?.bytes ?? 0)) {
      const next = this.#waiters.shift() as Waiter;
      this.#count++;
      this.#bytes += next.bytes;
      next.grant();
    }
  }

  get inFlight(): number {
    return this.#count;
  }
}

/** How a call waits for its turn in the {@link SendWindow}. */
export interface WindowWait {
  /** A call still waiting at this epoch ms never runs. `Infinity`: no bound of its own. */
  deadline: number;
  /**
   * A call also stops waiting once the window made no progress (no call on the wire succeeded) for this
   * long while it waited: the broker is failing, not merely busy. @default no such bound
   */
  stallMs?: number;
  /** The error a call that stopped waiting fails with. */
  expired(reason: 'deadline' | 'stalled'): Error;
  /** Receives a function that takes the call out of the queue (returns whether it was still queued). */
  queued?(leave: () => boolean): void;
}

interface QueuedCall {
  turn(): void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * How many async and oneway sends are on the wire at once; the rest wait their turn in order. The
 * client makes one gRPC call per message, and a burst of thousands of calls at once only queues them
 * inside the client, where their attempt timeouts run out and trigger retries that duplicate messages.
 * A waiting call's own send timeout has not started: it starts when the call goes on the wire.
 */
export class SendWindow {
  readonly #size: number;
  readonly #queue: QueuedCall[] = [];
  #active = 0;
  /** When a call on the wire last succeeded, or the window last went from idle to busy. */
  #lastProgress = performance.now();

  constructor(size: number) {
    this.#size = size;
  }

  run<T>(task: () => Promise<T>, wait: WindowWait): Promise<T> {
    const start = () => {
      if (this.#active === 0 && this.#queue.length === 0) this.#lastProgress = performance.now();
      this.#active++;
      return task().then(
        (value) => {
          this.#lastProgress = performance.now();
          this.#next();
          return value;
        },
        (error: unknown) => {
          this.#next();
          throw error;
        },
      );
    };
    if (this.#active < this.#size && this.#queue.length === 0) return start();
    return new Promise<T>((resolve, reject) => {
      const call: QueuedCall = {
        turn: () => {
          clearTimeout(call.timer);
          start().then(resolve, reject);
        },
        timer: undefined,
      };
      const leave = () => {
        const index = this.#queue.indexOf(call);
        if (index < 0) return false;
        this.#queue.splice(index, 1);
        clearTimeout(call.timer);
        return true;
      };
      const enqueued = performance.now();
      const arm = () => {
        const now = Date.now();
        let wake = wait.deadline - now;
        if (wait.stallMs !== undefined) {
          const quietSince = Math.max(this.#lastProgress, enqueued);
          const stalledIn = quietSince + wait.stallMs - performance.now();
          if (stalledIn <= 0) {
            if (leave()) reject(wait.expired('stalled'));
            return;
          }
          wake = Math.min(wake, stalledIn);
        }
        if (wake <= 0) {
          if (leave()) reject(wait.expired('deadline'));
          return;
        }
        if (Number.isFinite(wake)) call.timer = setTimeout(arm, wake);
      };
      this.#queue.push(call);
      arm();
      wait.queued?.(leave);
    });
  }

  #next(): void {
    this.#active--;
    this.#queue.shift()?.turn();
  }

  /** Calls waiting for their turn. */
  get waiting(): number {
    return this.#queue.length;
  }
}
