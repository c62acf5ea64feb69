/**
 * Records what happened to every send of a scenario, and turns that plus the broker's ledger into a
 * row of the table. A send that is still open long after its deadline is marked `hung`: it counts as
 * lost, because its caller never heard back.
 */
import type { Message, Producer, RocketMQError, SendOptions } from '../../lib/index.js';
import type { StoredEntry } from './broker-harness.js';

export type Mode = 'sync' | 'async' | 'oneway';

export interface TrackedSend {
  key: string;
  mode: Mode;
  startedAt: number;
  /** When the send must have settled: the earlier of the caller's bound and `sendTimeoutMs`. */
  deadline: number;
  state: 'pending' | 'acked' | 'failed' | 'hung';
  settledAt?: number;
  messageId?: string;
  code?: string;
  attempts?: number;
  spooled?: boolean;
  /** Callbacks received (async); more than one is a broken promise of the API. */
  callbacks: number;
}

/** How long past its deadline a send may stay open before the suite stops waiting and calls it hung. */
export const HANG_GRACE_MS = 2000;

export class SendTracker {
  readonly sends: TrackedSend[] = [];

  #track(producer: Producer, key: string, mode: Mode, options: SendOptions | undefined): TrackedSend {
    const startedAt = Date.now();
    const bound = Math.min(producer.config.sendTimeoutMs, options?.timeoutMs ?? Number.POSITIVE_INFINITY);
    const send: TrackedSend = {
      key,
      mode,
      startedAt,
      deadline: startedAt + bound,
      state: 'pending',
      callbacks: 0,
    };
    this.sends.push(send);
    return send;
  }

  /** Resolves when the send settled, or once it is overdue by {@link HANG_GRACE_MS}. Never rejects. */
  #watch(send: TrackedSend, settled: Promise<void>): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => {
          if (send.state === 'pending') send.state = 'hung';
          resolve();
        },
        send.deadline + HANG_GRACE_MS - Date.now(),
      );
      void settled.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  sync(producer: Producer, message: Message & { keys: [string] }, options?: SendOptions): Promise<void> {
    const send = this.#track(producer, message.keys[0], 'sync', options);
    const settled = producer.send(message, options).then(
      (result) => {
        if (send.state !== 'pending') return;
        Object.assign(send, {
          state: 'acked',
          settledAt: Date.now(),
          messageId: result.messageId,
          attempts: result.attempts,
        });
      },
      (error: RocketMQError) => {
        if (send.state !== 'pending') return;
        Object.assign(send, {
          state: 'failed',
          settledAt: Date.now(),
          code: error.code,
          attempts: error.attempts,
        });
      },
    );
    return this.#watch(send, settled);
  }

  async(producer: Producer, message: Message & { keys: [string] }, options?: SendOptions): Promise<void> {
    const send = this.#track(producer, message.keys[0], 'async', options);
    const settled = new Promise<void>((resolve) => {
      producer.sendAsync(
        message,
        {
          onSuccess: (result) => {
            send.callbacks++;
            if (send.callbacks === 1 && send.state === 'pending') {
              Object.assign(send, {
                state: 'acked',
                settledAt: Date.now(),
                messageId: result.messageId,
                attempts: result.attempts,
              });
            }
            resolve();
          },
          onException: ({ exception, spooled }) => {
            send.callbacks++;
            if (send.callbacks === 1 && send.state === 'pending') {
              Object.assign(send, {
                state: 'failed',
                settledAt: Date.now(),
                code: exception.code,
                attempts: exception.attempts,
                spooled,
              });
            }
            resolve();
          },
        },
        options,
      );
    });
    return this.#watch(send, settled);
  }

  /** Oneway sends have no outcome for the caller; only the ledger tells whether they arrived. */
  oneway(producer: Producer, message: Message & { keys: [string] }): void {
    const send = this.#track(producer, message.keys[0], 'oneway', undefined);
    producer.sendOneway(message);
    send.state = 'acked';
  }

  of(mode: Mode): TrackedSend[] {
    return this.sends.filter((send) => send.mode === mode);
  }
}

export interface Tally {
  sent: number;
  acked: number;
  /** Distinct keys of this scenario found in the ledger. */
  stored: number;
  failedToCaller: number;
  spooled: number;
  droppedOneway: number;
  duplicates: number;
  lost: number;
  ackedNotStored: string[];
  asyncNotSpooled: string[];
  unsettled: string[];
  doubleCallbacks: string[];
}

/** Compares what the callers were told with what the broker reported as stored. */
export function tally(sends: readonly TrackedSend[], ledger: readonly StoredEntry[]): Tally {
  const storedPerKey = new Map<string, number>();
  const storedIds = new Set<string>();
  for (const entry of ledger) {
    storedIds.add(entry.messageId);
    for (const key of entry.keys) storedPerKey.set(key, (storedPerKey.get(key) ?? 0) + 1);
  }
  const result: Tally = {
    sent: sends.length,
    acked: 0,
    stored: 0,
    failedToCaller: 0,
    spooled: 0,
    droppedOneway: 0,
    duplicates: 0,
    lost: 0,
    ackedNotStored: [],
    asyncNotSpooled: [],
    unsettled: [],
    doubleCallbacks: [],
  };
  for (const send of sends) {
    const times = storedPerKey.get(send.key) ?? 0;
    if (times > 0) result.stored++;
    if (times > 1) result.duplicates++;
    if (send.mode === 'oneway') {
      if (times === 0) result.droppedOneway++;
      continue;
    }
    if (send.callbacks > 1) result.doubleCallbacks.push(send.key);
    if (send.state === 'acked') {
      result.acked++;
      if (send.messageId === undefined || !storedIds.has(send.messageId))
        result.ackedNotStored.push(send.key);
    } else if (send.state === 'failed') {
      if (send.mode === 'sync') result.failedToCaller++;
      else if (send.spooled) result.spooled++;
      else result.asyncNotSpooled.push(send.key);
    } else {
      result.unsettled.push(send.key);
    }
  }
  result.lost = result.ackedNotStored.length + result.asyncNotSpooled.length + result.unsettled.length;
  return result;
}
