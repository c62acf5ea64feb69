import type { InFlightLimits } from './in-flight.js';

/** Why the gate turned a send away. Nothing of a refused send went on the wire. */
export type Refusal =
  /** The in-flight bounds were full: at once for `'drop'`, and still by the deadline for `'wait'`. */
  | 'full'
  /** Its deadline came while it held room and waited for a slot on the wire. */
  | 'deadline'
  /** No send on the wire succeeded for the stall time while it waited: the broker is failing. */
  | 'stalled';

/** What the gate tells a send: exactly one of the two, at most once. */
export interface Admission {
  /** The send holds room and a wire slot: it goes on the wire now and releases its lease when answered. */
  admitted(lease: Lease): void;
  refused(reason: Refusal): void;
}

/** A send's place in the gate, from the moment it asks until it releases what it holds. */
export interface Lease {
  /** Whether it still waits, for room or for a slot on the wire. */
  readonly waiting: boolean;
  /**
   * Gives back its room and its slot, or leaves the queue it waits in. `succeeded`: the broker
   * answered, which shows the wire is alive. Idempotent.
   */
  release(succeeded?: boolean): void;
}

type State = 'room' | 'wire' | 'active' | 'done';

/** One send in the gate. A class, not a literal: a burst of oneway sends makes many of them. */
class Entry implements Lease {
  readonly bytes: number;
  readonly deadline: number;
  readonly admission: Admission;
  readonly #release: (entry: Entry, succeeded: boolean) => void;
  state: State = 'room';
  /** When it joined the wire queue (performance.now()). */
  since = 0;
  timer: NodeJS.Timeout | undefined;

  constructor(
    bytes: number,
    deadline: number,
    admission: Admission,
    release: (entry: Entry, succeeded: boolean) => void,
  ) {
    this.bytes = bytes;
    this.deadline = deadline;
    this.admission = admission;
    this.#release = release;
  }

  get waiting(): boolean {
    return this.state === 'room' || this.state === 'wire';
  }

  release(succeeded?: boolean): void {
    this.#release(this, succeeded === true);
  }
}

/** A FIFO whose entries leave by being marked, not spliced out: thousands leaving at once stay linear. */
class MarkedQueue {
  readonly #entries: Entry[] = [];
  readonly #state: State;
  #head = 0;

  constructor(state: State) {
    this.#state = state;
  }

  push(entry: Entry): void {
    this.#entries.push(entry);
  }

  /** The first entry still waiting here, dropping those that left from the front. */
  first(): Entry | undefined {
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries.splice(0, this.#head);
      this.#head = 0;
    }
    while (this.#head < this.#entries.length) {
      const entry = this.#entries[this.#head] as Entry;
      if (entry.state === this.#state) return entry;
      this.#head++;
    }
    this.#entries.length = 0;
    this.#head = 0;
    return undefined;
  }
}

/**
 * The one gate every async and oneway send passes, in two steps and in order:
 * 1. room in memory: at most `maxInFlight` sends and `maxInFlightBytes` body bytes admitted and not
 *    answered. A send that finds no room is refused at once (`'drop'`) or waits for room (`'wait'`),
 *    until its deadline and never longer than `sendTimeoutMs`. A message larger than the byte bound
 *    alone still goes when nothing else is in flight; a large message at the head of the queue waits
 *    rather than being overtaken forever.
 * 2. a slot on the wire: at most `maxConcurrentSends` calls at once. The client makes one gRPC call per
 *    message, and thousands of calls at once only queue inside the client, where their attempt timeouts
 *    run out and trigger retries that duplicate messages. A send waits for its slot until its deadline,
 *    or until the wire stalls: no call on it succeeded for `sendTimeoutMs` while the send waited. Sends
 *    wait in order, so the oldest stalls first, and one timer for the head of the queue watches for it.
 */
export class AdmissionGate {
  readonly #limits: Required<InFlightLimits>;
  readonly #sendTimeoutMs: number;
  readonly #roomQueue = new MarkedQueue('room');
  readonly #wireQueue = new MarkedQueue('wire');
  #waitingForRoom = 0;
  #waitingForWire = 0;
  #count = 0;
  #bytes = 0;
  #active = 0;
  /** When a call on the wire last succeeded, or the wire last went from idle to busy. */
  #lastProgress = performance.now();
  #stallTimer: NodeJS.Timeout | undefined;
  /** Inside {@link #pump}: a release from a send it admits only asks it to go round once more. */
  #pumping = false;
  #pumpAgain = false;
  readonly #releaseEntry = (entry: Entry, succeeded: boolean) => this.#release(entry, succeeded);

  constructor(limits: Required<InFlightLimits>, sendTimeoutMs: number) {
    this.#limits = limits;
    this.#sendTimeoutMs = sendTimeoutMs;
  }

  /**
   * Asks for room for `bytes` and a slot on the wire. `deadline` (epoch ms, `Infinity` for none) bounds
   * the whole wait. The answer comes through `admission`, possibly before this returns; a send refused
   * at once gets no lease.
   */
  acquire(
    bytes: number,
    deadline: number,
    whenFull: 'wait' | 'drop',
    admission: Admission,
  ): Lease | undefined {
    const roomNow = this.#waitingForRoom === 0 && this.#fits(bytes);
    if (!roomNow && whenFull === 'drop') {
      admission.refused('full');
      return undefined;
    }
    const entry = new Entry(bytes, deadline, admission, this.#releaseEntry);
    if (roomNow) {
      this.#takeRoom(entry);
    } else {
      const waitUntil = Math.min(deadline, Date.now() + this.#sendTimeoutMs);
      entry.timer = setTimeout(() => this.#refuse(entry, 'full'), Math.max(0, waitUntil - Date.now()));
      this.#roomQueue.push(entry);
      this.#waitingForRoom++;
    }
    return entry;
  }

  /** How long calls have been on the wire without one succeeding (0 while none is on the wire). */
  stalledFor(): number {
    return this.#active === 0 ? 0 : performance.now() - this.#lastProgress;
  }

  #fits(bytes: number): boolean {
    if (this.#count >= this.#limits.maxInFlight) return false;
    return this.#count === 0 || this.#bytes + bytes <= this.#limits.maxInFlightBytes;
  }

  #takeRoom(entry: Entry): void {
    this.#count++;
    this.#bytes += entry.bytes;
    if (this.#active < this.#limits.maxConcurrentSends && this.#waitingForWire === 0) {
      this.#activate(entry);
      return;
    }
    if (Date.now() >= entry.deadline) {
      this.#freeRoom(entry);
      entry.state = 'done';
      entry.admission.refused('deadline');
      return;
    }
    entry.state = 'wire';
    entry.since = performance.now();
    if (Number.isFinite(entry.deadline)) {
      entry.timer = setTimeout(() => this.#refuse(entry, 'deadline'), entry.deadline - Date.now());
    }
    this.#wireQueue.push(entry);
    this.#waitingForWire++;
    this.#armStallTimer();
  }

  #activate(entry: Entry): void {
    if (this.#active === 0 && this.#waitingForWire === 0) this.#lastProgress = performance.now();
    this.#active++;
    entry.state = 'active';
    entry.admission.admitted(entry);
  }

  /** Takes `entry` out of whatever it waits for or holds; returns the state it was in. */
  #leave(entry: Entry): State {
    const state = entry.state;
    entry.state = 'done';
    clearTimeout(entry.timer);
    if (state === 'room') this.#waitingForRoom--;
    if (state === 'wire') this.#waitingForWire--;
    if (state === 'active') this.#active--;
    if (state === 'wire' || state === 'active') this.#freeRoom(entry);
    return state;
  }

  #freeRoom(entry: Entry): void {
    this.#count--;
    this.#bytes -= entry.bytes;
  }

  #refuse(entry: Entry, reason: Refusal): void {
    if (!entry.waiting) return;
    this.#leave(entry);
    this.#pump();
    entry.admission.refused(reason);
  }

  #release(entry: Entry, succeeded: boolean): void {
    if (entry.state === 'done') return;
    if (this.#leave(entry) === 'active' && succeeded) this.#lastProgress = performance.now();
    this.#pump();
  }

  /**
   * Hands free slots to the wire queue, then free room to the room queue, first come first served. A
   * send it admits may release at once (it was expired meanwhile), which calls back in here: that only
   * makes the running pass go round again, so thousands of such sends never nest on the stack.
   */
  #pump(): void {
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#pumpAgain = false;
        this.#pumpOnce();
      } while (this.#pumpAgain);
    } finally {
      this.#pumping = false;
    }
  }

  #pumpOnce(): void {
    for (let next = this.#wireQueue.first(); next; next = this.#wireQueue.first()) {
      if (this.#active >= this.#limits.maxConcurrentSends) break;
      clearTimeout(next.timer);
      this.#waitingForWire--;
      this.#activate(next);
    }
    for (let next = this.#roomQueue.first(); next; next = this.#roomQueue.first()) {
      if (!this.#fits(next.bytes)) break;
      clearTimeout(next.timer);
      this.#waitingForRoom--;
      this.#takeRoom(next);
    }
    if (this.#waitingForWire === 0 && this.#stallTimer) {
      clearTimeout(this.#stallTimer);
      this.#stallTimer = undefined;
    }
  }

  #armStallTimer(): void {
    if (this.#stallTimer) return;
    const first = this.#wireQueue.first();
    if (!first) return;
    const stallsIn = Math.max(this.#lastProgress, first.since) + this.#sendTimeoutMs - performance.now();
    this.#stallTimer = setTimeout(
      () => {
        this.#stallTimer = undefined;
        for (let entry = this.#wireQueue.first(); entry; entry = this.#wireQueue.first()) {
          if (Math.max(this.#lastProgress, entry.since) + this.#sendTimeoutMs > performance.now()) break;
          this.#refuse(entry, 'stalled');
        }
        this.#armStallTimer();
      },
      Math.max(0, stallsIn),
    );
  }
}
