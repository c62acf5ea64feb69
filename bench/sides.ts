/**
 * The three senders every send-mode figure compares, against the same broker process:
 *   raw       the official `rocketmq-client-nodejs` Producer used directly, as a user would start it;
 *   official  our producer on the `official` transport (that same client underneath);
 *   lean      our producer on the `lean` transport (node:http2), the default.
 * Blocks of a round run the sides in an order that rotates, so machine noise lands on all of them.
 */
import { Producer as RawProducer } from 'rocketmq-client-nodejs';
import { createProducer, type Producer } from '../lib/index.js';
import { type BenchContext, BODY, SYNC_TOPIC, silentClientLogger } from './context.js';

export const SIDES = ['raw', 'official', 'lean'] as const;
export type Side = (typeof SIDES)[number];
/** Our producer on each transport. */
export const TRANSPORTS = ['official', 'lean'] as const;
export type TransportSide = (typeof TRANSPORTS)[number];

export type SyncSend = () => Promise<unknown>;
/** Starts one send; `done` runs once, when it was acknowledged (true) or failed (false). */
export type AsyncSend = (done: (ok: boolean) => void) => void;

export interface Sides {
  sync: Record<Side, SyncSend>;
  async: Record<Side, AsyncSend>;
  /** Our producers' `stats().clientResets` so far; the raw client does not count its own. */
  clientResets(side: Side): number | undefined;
  producers: Record<TransportSide, Producer>;
  shutdown(): Promise<void>;
}

/** `sides` rotated by `by` places: block 0 raw first, block 1 official first, … */
export function rotation<T>(sides: readonly T[], by: number): T[] {
  return sides.map((_, i) => sides[(i + by) % sides.length] as T);
}

export async function startSides(context: BenchContext): Promise<Sides> {
  const raw = new RawProducer({ endpoints: context.endpoint, namespace: '', logger: silentClientLogger });
  await raw.startup();
  const producers: Record<TransportSide, Producer> = {
    official: createProducer({ endpoints: context.endpoint, transport: 'official' }),
    lean: createProducer({ endpoints: context.endpoint, transport: 'lean' }),
  };
  const message = { topic: SYNC_TOPIC, body: BODY };
  const ours = (producer: Producer): AsyncSend => {
    return (done) =>
      producer.sendAsync(message, { onSuccess: () => done(true), onException: () => done(false) });
  };
  return {
    sync: {
      raw: () => raw.send(message),
      official: () => producers.official.send(message),
      lean: () => producers.lean.send(message),
    },
    async: {
      // The raw client has no callback API: its send promise, not awaited, is the same pipelining.
      raw: (done) =>
        void raw.send(message).then(
          () => done(true),
          () => done(false),
        ),
      official: ours(producers.official),
      lean: ours(producers.lean),
    },
    clientResets: (side) => (side === 'raw' ? undefined : producers[side].stats().clientResets),
    producers,
    async shutdown() {
      await Promise.all([raw.shutdown(), producers.official.shutdown(), producers.lean.shutdown()]);
    },
  };
}
