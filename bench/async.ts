/**
 * 2. Async sends, pipelined, on the three sides: our `sendAsync` with callbacks, and the raw client's
 * send promise not awaited, which is the same thing for it. "Unbounded" fires all N at once and counts
 * until every callback arrived; "window" keeps at most W sends in flight, each callback starting the
 * next. Each round runs every side once per variant, in an order that rotates per round. Ratios are
 * paired per round: against the raw client at the same concurrency, and against the same side's
 * sequential sync of the same round.
 */
import type { BenchContext } from './context.js';
import { type AsyncSend, rotation, SIDES, type Side, type Sides } from './sides.js';
import { roundSpread, type Spread, spreadOf } from './stats.js';
import {
  type Measurement,
  pairedRatios,
  type RoundOf,
  type Run,
  type ScenarioSummary,
  summarizeSide,
  Tally,
} from './sync.js';

export const ASYNC_WINDOW = 256;

export interface AsyncScenario extends ScenarioSummary {
  /** msg/s ÷ the same side's sequential sync msg/s of the same round. */
  vsSequentialSync: Record<Side, Spread>;
}

export interface AsyncResult {
  messagesPerRound: number;
  window: number;
  unbounded: AsyncScenario;
  windowed: AsyncScenario;
}

/** Per-send latency from the call to its callback; resolves once all `count` callbacks ran. */
export function pipelined(send: AsyncSend, count: number, window: number): Promise<Run> {
  return new Promise<Run>((resolve) => {
    const latencies = new Float64Array(count);
    let started = 0;
    let settled = 0;
    let failed = 0;
    const begin = process.hrtime.bigint();
    const startOne = () => {
      const index = started++;
      const sent = process.hrtime.bigint();
      send((ok) => {
        latencies[index] = Number(process.hrtime.bigint() - sent) / 1e6;
        if (!ok) failed++;
        settled++;
        if (settled === count) {
          resolve({ latencies, failed, wallMs: Number(process.hrtime.bigint() - begin) / 1e6 });
        } else if (started < count) {
          startOne();
        }
      });
    };
    const initial = Math.min(window, count);
    for (let i = 0; i < initial; i++) startOne();
  });
}

export interface AsyncRound {
  unbounded: RoundOf<Measurement>;
  windowed: RoundOf<Measurement>;
}

export async function asyncRound(context: BenchContext, sides: Sides, round: number): Promise<AsyncRound> {
  const variant = async (window: number) => {
    const result = {} as RoundOf<Measurement>;
    for (const side of rotation(SIDES, round)) {
      const tally = new Tally(context.n, side);
      await tally.block(context, sides, side, () => pipelined(sides.async[side], context.n, window));
      result[side] = tally.measurement();
    }
    return result;
  };
  return { unbounded: await variant(context.n), windowed: await variant(ASYNC_WINDOW) };
}

function summarize(
  rounds: readonly RoundOf<Measurement>[],
  sequentialSync: readonly RoundOf<Measurement>[],
): AsyncScenario {
  const versus = (side: Side) =>
    roundSpread(
      spreadOf(
        rounds.map((r, i) => r[side].msgsPerSec / (sequentialSync[i]?.[side].msgsPerSec ?? Number.NaN)),
        (x) => x,
      ),
      2,
    );
  return {
    raw: summarizeSide(rounds.map((r) => r.raw)),
    official: summarizeSide(rounds.map((r) => r.official)),
    lean: summarizeSide(rounds.map((r) => r.lean)),
    ratio: pairedRatios(rounds, (m) => m.msgsPerSec),
    cpuRatio: pairedRatios(rounds, (m) => m.clientCpuUsPerMsg),
    vsSequentialSync: { raw: versus('raw'), official: versus('official'), lean: versus('lean') },
  };
}

export function summarizeAsync(
  context: BenchContext,
  rounds: readonly AsyncRound[],
  sequentialSync: readonly RoundOf<Measurement>[],
): AsyncResult {
  return {
    messagesPerRound: context.n,
    window: ASYNC_WINDOW,
    unbounded: summarize(
      rounds.map((r) => r.unbounded),
      sequentialSync,
    ),
    windowed: summarize(
      rounds.map((r) => r.windowed),
      sequentialSync,
    ),
  };
}
