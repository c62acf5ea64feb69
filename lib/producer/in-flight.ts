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

/**
 * How many async and oneway sends are on the wire at once; the rest wait their turn in order. The
 * client makes one gRPC call per message, and a burst of thousands of calls at once only queues them
 * inside the client, where their attempt timeouts run out and trigger retries that duplicate messages.
 */
export class SendWindow {
  readonly #size: number;
  readonly #queue: Array<() => void> = [];
  #active = 0;

  constructor(size: number) {
    this.#size = size;
  }

  /**
   * Runs `task` when a slot is free. A task still waiting at `deadline` never runs: it fails with
   * `expired()` instead, so waiting for a turn never outlasts the send's own deadline.
   */
  run<T>(task: () => Promise<T>, deadline: number, expired: () => Error): Promise<T> {
    const start = () => {
      this.#active++;
      return task().finally(() => {
        this.#active--;
        this.#queue.shift()?.();
      });
    };
    if (this.#active < this.#size) return start();
    return new Promise<T>((resolve, reject) => {
      const turn = () => {
        clearTimeout(timer);
        start().then(resolve, reject);
      };
      const timer = setTimeout(
        () => {
          const index = this.#queue.indexOf(turn);
          if (index < 0) return;
          this.#queue.splice(index, 1);
          reject(expired());
        },
        Math.max(0, deadline - Date.now()),
      );
      this.#queue.push(turn);
    });
  }
}
