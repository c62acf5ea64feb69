/**
 * 2. Async sends: `sendAsync` with callbacks, pipelined. "Unbounded" fires all N at once and counts
 * callbacks until every one arrived; "window" keeps at most W sends in flight, each callback starting the
 * next. Compared with our own sequential sync throughput of the same run.
 */
import { createProducer, type Producer } from '../lib/index.js';
import { type BenchContext, BODY, SYNC_TOPIC } from './context.js';
import { round, roundSpread, type Spread, spreadOf } from './stats.js';
import { type Measurement, measure, type SideSummary, summarizeSide } from './sync.js';

export const ASYNC_WINDOW = 256;

export interface AsyncResult {
  messagesPerRound: number;
  window: number;
  unbounded: SideSummary & { vsSequentialSync: Spread };
  windowed: SideSummary & { vsSequentialSync: Spread };
  /** Our sequential sync msgs/s (median) that the ratios divide by. */
  sequentialSyncMsgsPerSec: number;
}

/** Per-send latency from sendAsync to its callback; resolves once all `count` callbacks ran. */
function pipelined(producer: Producer, count: number, window: number) {
  return new Promise<{ latencies: Float64Array; failed: number; wallMs: number }>((resolve) => {
    const latencies = new Float64Array(count);
    let started = 0;
    let settled = 0;
    let failed = 0;
    const begin = process.hrtime.bigint();
    const startOne = () => {
      const index = started++;
      const sent = process.hrtime.bigint();
      const done = () => {
        latencies[index] = Number(process.hrtime.bigint() - sent) / 1e6;
        settled++;
        if (settled === count) {
          resolve({ latencies, failed, wallMs: Number(process.hrtime.bigint() - begin) / 1e6 });
        } else if (started < count) {
          startOne();
        }
      };
      producer.sendAsync(
        { topic: SYNC_TOPIC, body: BODY },
        {
          onSuccess: done,
          onException: () => {
            failed++;
            done();
          },
        },
      );
    };
    const initial = Math.min(window, count);
    for (let i = 0; i < initial; i++) startOne();
  });
}

export async function benchAsync(
  context: BenchContext,
  sequentialSyncMsgsPerSec: number,
): Promise<AsyncResult> {
  const { n, rounds } = context;
  const producer = createProducer({ endpoints: context.endpoint });
  try {
    await pipelined(producer, context.quick ? 50 : 500, ASYNC_WINDOW);
    const unbounded: Measurement[] = [];
    const windowed: Measurement[] = [];
    for (let r = 0; r < rounds; r++) {
      context.progress(`async round ${r + 1}/${rounds}`);
      unbounded.push(await measure(context, n, () => pipelined(producer, n, n)));
      windowed.push(await measure(context, n, () => pipelined(producer, n, ASYNC_WINDOW)));
    }
    const versus = (list: typeof unbounded) =>
      roundSpread(
        spreadOf(list, (m) => m.msgsPerSec / sequentialSyncMsgsPerSec),
        2,
      );
    return {
      messagesPerRound: n,
      window: ASYNC_WINDOW,
      unbounded: { ...summarizeSide(unbounded), vsSequentialSync: versus(unbounded) },
      windowed: { ...summarizeSide(windowed), vsSequentialSync: versus(windowed) },
      sequentialSyncMsgsPerSec: round(sequentialSyncMsgsPerSec, 0),
    };
  } finally {
    await producer.shutdown();
  }
}
