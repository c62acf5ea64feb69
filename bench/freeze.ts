/**
 * The first send after a simulated five-minute freeze, per transport of our producer. Each repeat starts
 * a fresh producer, warms it with one send, then the broker silences the connections open now (new ones
 * work) and, for the lean transport, its clock moves five minutes on so its idle check sees the gap a
 * frozen instance would. The figure is the time of the next send, and how many attempts it took.
 */
import { createProducer } from '../lib/index.js';
import { LeanTransport } from '../lib/transport/index.js';
import type { BrokerProcess } from './broker-process.js';
import { BODY, elapsedMs, SYNC_TOPIC } from './context.js';
import { roundSpread, type Spread, spreadOf } from './stats.js';

const FIVE_MINUTES = 5 * 60_000;

export interface FreezeResult {
  repeats: number;
  officialMs: Spread;
  leanMs: Spread;
  officialAttempts: number[];
  leanAttempts: number[];
}

export async function benchFreeze(broker: BrokerProcess, repeats: number): Promise<FreezeResult> {
  const times: Record<'official' | 'lean', number[]> = { official: [], lean: [] };
  const attempts: Record<'official' | 'lean', number[]> = { official: [], lean: [] };
  for (let i = 0; i < repeats; i++) {
    for (const transport of ['official', 'lean'] as const) {
      let offset = 0;
      const producer = createProducer({
        endpoints: broker.endpoint,
        transport,
        ...(transport === 'lean' && {
          transportFactory: (config, logger) =>
            new LeanTransport(config, logger, { clock: () => Date.now() + offset }),
        }),
      });
      try {
        await producer.send({ topic: SYNC_TOPIC, body: BODY });
        await broker.fault('freeze');
        offset += FIVE_MINUTES;
        const started = process.hrtime.bigint();
        const result = await producer.send({ topic: SYNC_TOPIC, body: BODY });
        times[transport].push(elapsedMs(started));
        attempts[transport].push(result.attempts);
      } finally {
        await broker.fault('reset');
        await producer.shutdown();
      }
    }
  }
  return {
    repeats,
    officialMs: roundSpread(
      spreadOf(times.official, (x) => x),
      1,
    ),
    leanMs: roundSpread(
      spreadOf(times.lean, (x) => x),
      1,
    ),
    officialAttempts: attempts.official,
    leanAttempts: attempts.lean,
  };
}
