import type { RocketMQError } from '../errors.js';
import type { PreparedMessage } from '../message.js';
import type { Admission, AdmissionGate, Lease, Refusal } from './admission.js';
import { expiryError } from './deadline.js';
import type { SendObserver, SendTrace } from './observe.js';
import { failed, outcomeError, type SendFailed, type SendOutcome } from './outcome.js';
import type { PendingSend, SendTracker } from './pending.js';
import type { RetryingSender } from './retry.js';
import type { SendCallback } from './types.js';

/** What every job of one producer shares: the gate, the sender, reporting and the books. */
export interface JobContext {
  readonly gate: AdmissionGate;
  readonly sender: RetryingSender;
  readonly observer: SendObserver;
  readonly sendTimeoutMs: number;
  /** Attempts an async send may make (oneway makes one). */
  readonly maxAttempts: number;
  /** The error of a send the gate refused. */
  refusal(reason: Refusal, topic: string): RocketMQError;
  /** Persists a failed async message and tells `done` whether it is durable. Undefined: no spool. */
  readonly persist:
    | ((message: PreparedMessage, error: RocketMQError, done: (spooled: boolean) => void) => void)
    | undefined;
  /** The producer's books: every send not settled yet. */
  readonly pending: Set<PendingSend>;
  /** The `track` hook, told of each pending send too. */
  readonly track: SendTracker | undefined;
  /** Tells `callback` the outcome; a callback that throws cannot break the producer. */
  tell(callback: SendCallback, outcome: SendOutcome, topic: string): void;
}

/** How one mode sends: async waits for room, retries and spools; oneway is dropped, tried once, counted. */
export interface JobPolicy {
  readonly mode: 'async' | 'oneway';
  /** The caller's bound (epoch ms) on the whole send, waiting included; `Infinity` for none. */
  readonly deadline: number;
  /** Async only: told the outcome, exactly once and never before the send method returned. */
  readonly callback?: SendCallback;
}

type State = 'waiting' | 'wire' | 'persisting' | 'done';

/**
 * One async or oneway send from start to outcome, settled exactly once: it asks the admission gate
 * for room and a wire slot (`waiting`), goes on the wire (`wire`), and ends with its outcome; a failed
 * async send with a spool is written there first (`persisting`) and ends once the write is durable, or
 * when the drain's deadline leaves no more time for it. A drain may expire it while open.
 */
export class SendJob implements PendingSend, Admission {
  readonly mode: 'async' | 'oneway';
  readonly #message: PreparedMessage;
  readonly #trace: SendTrace;
  readonly #policy: JobPolicy;
  readonly #context: JobContext;
  #state: State = 'waiting';
  #lease: Lease | undefined;
  #attempts = 0;
  #failure: SendFailed | undefined;
  #untrack: (() => void) | undefined;
  #done: Promise<void> | undefined;
  #finish: (() => void) | undefined;
  #finished = false;
  /** Inside `start`: an outcome known already is told a microtask later, after the send method returned. */
  #starting = false;

  constructor(message: PreparedMessage, trace: SendTrace, policy: JobPolicy, context: JobContext) {
    this.mode = policy.mode;
    this.#message = message;
    this.#trace = trace;
    this.#policy = policy;
    this.#context = context;
  }

  /** Made on first use: most sends settle without a drain ever waiting for them. */
  get done(): Promise<void> {
    this.#done ??= this.#finished
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          this.#finish = resolve;
        });
    return this.#done;
  }

  /** Counts the job as pending and asks the gate for its turn; the outcome may come before this returns. */
  start(): void {
    this.#context.pending.add(this);
    this.#untrack = this.#context.track?.(this);
    this.#starting = true;
    const whenFull = this.mode === 'oneway' ? 'drop' : 'wait';
    this.#lease = this.#context.gate.acquire(
      this.#message.body.length,
      this.#policy.deadline,
      whenFull,
      this,
    );
    this.#starting = false;
  }

  /** The gate's answer: room and a wire slot. */
  admitted(lease: Lease): void {
    this.#lease = lease;
    if (this.#state !== 'waiting') {
      lease.release();
      return;
    }
    this.#state = 'wire';
    // Deferred for oneway, so that sendOneway returns before the client does any work for it.
    if (this.mode === 'oneway') queueMicrotask(() => this.#deliver(lease));
    else this.#deliver(lease);
  }

  /** The gate's answer: no room, no slot in time, or a stalled wire. */
  refused(reason: Refusal): void {
    if (this.mode === 'oneway') this.#drop();
    else this.#settle(failed(this.#context.refusal(reason, this.#message.topic), 0));
  }

  get waiting(): boolean {
    return this.#state === 'waiting';
  }

  expire(): boolean {
    if (this.#state !== 'waiting' && this.#state !== 'wire') return false;
    if (this.mode === 'oneway') {
      this.#drop();
      return true;
    }
    const onWire = this.#state === 'wire';
    this.#settle(failed(expiryError(this.#message.topic, onWire), this.#attempts));
    return true;
  }

  abandon(): boolean {
    if (this.#state !== 'persisting' || !this.#failure) return false;
    this.#end({ ...this.#failure, spooled: false });
    return true;
  }

  #deliver(lease: Lease): void {
    if (this.#state !== 'wire') {
      lease.release();
      return;
    }
    this.#attempts = 1;
    // The send's own timeout starts now, on the wire; the caller's bound holds throughout.
    const deadline = Math.min(this.#policy.deadline, Date.now() + this.#context.sendTimeoutMs);
    const maxAttempts = this.mode === 'oneway' ? 1 : this.#context.maxAttempts;
    void this.#context.sender
      .deliver(this.#message, this.#trace, deadline, maxAttempts, (attempt) => {
        this.#attempts = attempt + 1;
      })
      .then((outcome) => {
        lease.release(outcome.ok);
        this.#settle(outcome);
      });
  }

  #settle(outcome: SendOutcome): void {
    if (this.#state !== 'waiting' && this.#state !== 'wire') return;
    // A send that never got its turn gives its place back now, not once its spool write is done: held
    // while persisting, it would keep room from later sends and be handed a slot it can only return.
    if (this.#state === 'waiting') this.#lease?.release();
    const { observer, persist } = this.#context;
    if (outcome.ok) {
      observer.success(this.#trace, outcome.result.messageId, outcome.result.attempts);
      this.#end(outcome);
      return;
    }
    observer.failure(this.#trace, outcome.error, outcome.attempts);
    if (this.mode === 'oneway' || !persist) {
      this.#end({ ...outcome, spooled: this.mode === 'oneway' ? undefined : false });
      return;
    }
    this.#state = 'persisting';
    this.#failure = outcome;
    persist(this.#message, outcome.error, (spooled) => this.#persisted(outcome, spooled));
  }

  #persisted(outcome: SendFailed, spooled: boolean): void {
    if (this.#state !== 'persisting') return;
    if (spooled) this.#context.observer.spooled(this.#trace, outcome.error);
    this.#end(failed(outcome.error, outcome.attempts, spooled));
  }

  #drop(): void {
    if (this.#state === 'done') return;
    this.#context.observer.dropped(this.#trace);
    this.#end(undefined);
  }

  /** Takes the job off the books and tells its callback, if it has one. */
  #end(outcome: SendOutcome | undefined): void {
    const wasWaiting = this.#state === 'waiting';
    this.#state = 'done';
    if (wasWaiting) this.#lease?.release();
    this.#context.pending.delete(this);
    this.#untrack?.();
    if (this.#starting) queueMicrotask(() => this.#report(outcome));
    else this.#report(outcome);
  }

  #report(outcome: SendOutcome | undefined): void {
    const callback = this.#policy.callback;
    if (callback && outcome) this.#context.tell(callback, outcome, this.#message.topic);
    this.#finished = true;
    this.#finish?.();
  }
}

/**
 * Calls the one method of `callback` that `outcome` calls for. The failure's `exception` is made when
 * it is first read: each callback gets an error of its own, and one that only looks at `spooled` (a
 * drain telling thousands of expired sends) does not pay for making it.
 */
export function tellCallback(callback: SendCallback, outcome: SendOutcome, topic: string): void {
  if (outcome.ok) {
    callback.onSuccess(outcome.result);
    return;
  }
  let exception: RocketMQError | undefined;
  callback.onException({
    topic,
    messageId: outcome.error.messageId,
    get exception() {
      exception ??= outcomeError(outcome);
      return exception;
    },
    spooled: outcome.spooled === true,
  });
}
