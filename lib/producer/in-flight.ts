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
  left: boolean;
}

export class InFlightLimiter {
  readonly #limits: Pick<Required<InFlightLimits>, 'maxInFlight' | 'maxInFlightBytes'>;
  readonly #waiters: Waiter[] = [];
  #waiting = 0;
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
    if (this.#waiting > 0 || !this.#fits(bytes)) return false;
    this.#count++;
    this.#bytes += bytes;
    return true;
  }

  /**
   * Queues for a slot; `grant` runs once one is taken for the caller. Returns a function that leaves the
   * queue (for a caller whose deadline passed first) and reports whether it was still waiting.
   */
  enqueue(bytes: number, grant: () => void): () => boolean {
    const waiter: Waiter = { bytes, grant, left: false };
    this.#waiters.push(waiter);
    this.#waiting++;
    // Marked, not spliced out, so that many callers leaving at once stay linear.
    return () => {
      if (waiter.left) return false;
      waiter.left = true;
      this.#waiting--;
      return true;
    };
  }

  release(bytes: number): void {
    this.#count--;
    this.#bytes -= bytes;
    // First come, first served: a large message at the head waits rather than being overtaken forever.
    for (let next = this.#waiters[0]; next; next = this.#waiters[0]) {
      if (next.left) {
        this.#waiters.shift();
        continue;
      }
      if (!this.#fits(next.bytes)) return;
      this.#waiters.shift();
      next.left = true;
      this.#waiting--;
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
  /** The error a call that stopped waiting fails with. */
  expired(reason: 'deadline' | 'stalled'): Error;
  /** Receives a function that takes the call out of the queue (returns whether it was still queued). */
  queued?(leave: () => boolean): void;
}

interface QueuedCall {
  turn(): void;
  stop(reason: 'deadline' | 'stalled'): void;
  /** When it joined the queue (performance.now()). */
  enqueued: number;
  /** Its own deadline's timer, if it has one. */
  timer: NodeJS.Timeout | undefined;
  /** Left the queue (its deadline came, or its send ended) before its turn. */
  left: boolean;
}

/**
 * How many async and oneway sends are on the wire at once; the rest wait their turn in order. The
 * client makes one gRPC call per message, and a burst of thousands of calls at once only queues them
 * inside the client, where their attempt timeouts run out and trigger retries that duplicate messages.
 * A waiting call's own send timeout has not started: it starts when the call goes on the wire.
 *
 * A call stops waiting when its own deadline comes, or when the window stalls: no call on the wire
 * succeeded for `stallMs` while it waited — the broker is failing, not merely busy. Calls wait in order,
 * so the oldest one stalls first, and one timer for the head of the queue watches for it.
 */
export class SendWindow {
  readonly #size: number;
  readonly #stallMs: number;
  readonly #queue: QueuedCall[] = [];
  #head = 0;
  #waiting = 0;
  #active = 0;
  /** When a call on the wire last succeeded, or the window last went from idle to busy. */
  #lastProgress = performance.now();
  #stallTimer: NodeJS.Timeout | undefined;

  constructor(size: number, stallMs: number) {
    this.#size = size;
    this.#stallMs = stallMs;
  }

  run<T>(task: () => Promise<T>, wait: WindowWait): Promise<T> {
    const start = () => {
      if (this.#active === 0 && this.#waiting === 0) this.#lastProgress = performance.now();
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
    if (this.#active < this.#size && this.#waiting === 0) return start();
    if (Date.now() >= wait.deadline) return Promise.reject(wait.expired('deadline'));
    return new Promise<T>((resolve, reject) => {
      const call: QueuedCall = {
        turn: () => start().then(resolve, reject),
        stop: (reason) => {
          if (leave()) reject(wait.expired(reason));
        },
        enqueued: performance.now(),
        timer: undefined,
        left: false,
      };
      // Marked, not spliced out: thousands of sends leaving at a drain's deadline must not cost O(n²).
      const leave = () => {
        if (call.left) return false;
        call.left = true;
        this.#waiting--;
        clearTimeout(call.timer);
        return true;
      };
      if (Number.isFinite(wait.deadline)) {
        call.timer = setTimeout(() => call.stop('deadline'), wait.deadline - Date.now());
      }
      this.#queue.push(call);
      this.#waiting++;
      this.#armStallTimer();
      wait.queued?.(leave);
    });
  }

  /** The first call still waiting, dropping the ones that left from the front of the queue. */
  #first(): QueuedCall | undefined {
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#head);
      this.#head = 0;
    }
    while (this.#head < this.#queue.length) {
      const call = this.#queue[this.#head] as QueuedCall;
      if (!call.left) return call;
      this.#head++;
    }
    this.#queue.length = 0;
    this.#head = 0;
    return undefined;
  }

  #armStallTimer(): void {
    if (this.#stallTimer) return;
    const first = this.#first();
    if (!first) return;
    const stallsIn = Math.max(this.#lastProgress, first.enqueued) + this.#stallMs - performance.now();
    this.#stallTimer = setTimeout(
      () => {
        this.#stallTimer = undefined;
        for (let call = this.#first(); call; call = this.#first()) {
          if (Math.max(this.#lastProgress, call.enqueued) + this.#stallMs > performance.now()) break;
          call.stop('stalled');
        }
        this.#armStallTimer();
      },
      Math.max(0, stallsIn),
    );
  }

  #next(): void {
    this.#active--;
    const call = this.#first();
    if (!call) return;
    call.left = true;
    this.#waiting--;
    this.#head++;
    clearTimeout(call.timer);
    call.turn();
    if (this.#waiting === 0 && this.#stallTimer) {
      clearTimeout(this.#stallTimer);
      this.#stallTimer = undefined;
    }
  }

  /** How long calls have been on the wire without one succeeding (0 while none is on the wire). */
  stalledFor(): number {
    return this.#active === 0 ? 0 : performance.now() - this.#lastProgress;
  }
}
