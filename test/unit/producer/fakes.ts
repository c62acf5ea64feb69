import type { ErrorCode } from '../../../lib/errors.js';
import type { PreparedMessage } from '../../../lib/message.js';
import { Producer, type ProducerOptions } from '../../../lib/producer/producer.js';
import type { Transport, TransportReceipt } from '../../../lib/producer/transport.js';
import type { Spool } from '../../../lib/spool/spool.js';
import { silentLogger } from '../../support/silent-logger.js';

/** One send the fake transport holds until the test answers it. */
export interface HeldSend {
  readonly message: PreparedMessage;
  readonly deadline: number | undefined;
  answer(): void;
  fail(error: unknown): void;
}

/**
 * A fake transport: no broker, no network. Each send waits in `held` until the test answers or fails it,
 * or is answered at once by `autoAnswer`. `onWire` is how many sends it holds right now.
 */
export class FakeTransport implements Transport {
  generation = 0;
  answers = 0;
  readonly held: HeldSend[] = [];
  readonly sent: PreparedMessage[] = [];
  resets = 0;
  peakOnWire = 0;
  #onWire = 0;
  #next = 0;
  /** When set, every send is answered by it after the current microtasks: a receipt, or a thrown error. */
  autoAnswer: ((message: PreparedMessage) => 'ok' | unknown) | undefined;

  get onWire(): number {
    return this.#onWire;
  }

  send(message: PreparedMessage, options?: { deadline?: number }): Promise<TransportReceipt> {
    this.#onWire++;
    this.peakOnWire = Math.max(this.peakOnWire, this.#onWire);
    return new Promise<TransportReceipt>((resolve, reject) => {
      const settle = (error?: unknown) => {
        this.#onWire--;
        this.answers++;
        if (error !== undefined) {
          reject(error);
          return;
        }
        this.sent.push(message);
        this.#next++;
        resolve({ messageId: `fake-${this.#next}`, offset: this.#next });
      };
      const auto = this.autoAnswer;
      if (auto) {
        queueMicrotask(() => {
          const verdict = auto(message);
          settle(verdict === 'ok' ? undefined : verdict);
        });
        return;
      }
      this.held.push({
        message,
        deadline: options?.deadline,
        answer: () => settle(),
        fail: (error) => settle(error),
      });
    });
  }

  /** Answers every held send, oldest first. */
  answerAll(): void {
    for (const send of this.held.splice(0)) send.answer();
  }

  reset(): boolean {
    this.resets++;
    this.generation++;
    return true;
  }

  forgetTopic(): void {}

  async warmUp(): Promise<void> {}

  async close(): Promise<void> {}
}

/** A broker verdict as the transports throw it: the broker's status as numeric `code`. */
export function brokerError(status: number, message = 'fake broker verdict'): Error {
  return Object.assign(new Error(message), { code: status });
}

/** A producer on a fake transport, quiet, with no retry backoff unless the options say otherwise. */
export function fakeProducer(transport: FakeTransport, options: ProducerOptions = {}): Producer {
  return new Producer({
    endpoints: 'fake:8081',
    namespace: '',
    transportFactory: () => transport,
    logger: silentPowertools,
    ...options,
  });
}

/** A fake spool that keeps records in memory; `hold` makes appends wait until `release()`. */
export function fakeSpool(): Spool & {
  records: { message: PreparedMessage; code: ErrorCode }[];
  hold: boolean;
  release(): void;
} {
  const waiting: (() => void)[] = [];
  const spool = {
    records: [] as { message: PreparedMessage; code: ErrorCode }[],
    hold: false,
    release() {
      for (const resume of waiting.splice(0)) resume();
    },
    async append(message: PreparedMessage, error: { code: ErrorCode }) {
      if (spool.hold) await new Promise<void>((resolve) => waiting.push(resolve));
      spool.records.push({ message, code: error.code });
      return `record-${spool.records.length}`;
    },
    async list() {
      return [];
    },
    async redeliver() {
      return { delivered: 0, failed: 0, rejected: 0, quarantined: 0, remaining: 0 };
    },
  };
  return spool;
}

/** A Powertools-shaped logger that drops every line. */
const silentPowertools = Object.assign(Object.create(null), silentLogger, {
  level: 100,
}) as unknown as NonNullable<ProducerOptions['logger']>;
