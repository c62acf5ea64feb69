/**
 * 1. Sync sends on the three sides (bench/sides.ts): the raw official client, our producer on the
 * official transport, our producer on the lean transport; sequentially and at a fixed concurrency.
 * Within every round the sides run in blocks whose order rotates (10 blocks each sequentially, 4 at
 * concurrency), so a burst of machine noise hits all of them and none always goes first. A side's round
 * figure adds up its blocks. Each block also records the CPU time of the client process and of the
 * broker process, and our producers' client resets.
 */
import type { BenchContext } from './context.js';
import { elapsedMs } from './context.js';
import {
  rotation,
  SIDES,
  type Side,
  type Sides,
  type SyncSend,
  TRANSPORTS,
  type TransportSide,
} from './sides.js';
import { latencySummary, roundSpread, type Spread, spreadOf } from './stats.js';

/** What one run of sends returns: per-send latencies, failures and the wall time. */
export type Run = { latencies: Float64Array; failed: number; wallMs: number };

const SEQUENTIAL_BLOCKS = 10;
const CONCURRENT_BLOCKS = 4;

export interface Measurement {
  messages: number;
  msgsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  failed: number;
  /** CPU time per message of this process (client) and of the broker process, in µs. */
  clientCpuUsPerMsg: number;
  brokerCpuUsPerMsg: number;
  /** Client replacements our producer made during the measurement; null for the raw client. */
  clientResets: number | null;
}

export interface SideSummary {
  msgsPerSec: Spread;
  p50Ms: Spread;
  p99Ms: Spread;
  clientCpuUsPerMsg: Spread;
  brokerCpuUsPerMsg: Spread;
  /** Totals over the measured rounds. */
  failed: number;
  clientResets: number | null;
}

export interface ScenarioSummary {
  raw: SideSummary;
  official: SideSummary;
  lean: SideSummary;
  /** Our producer's msg/s ÷ the raw client's, paired per round. */
  ratio: Record<TransportSide, Spread>;
  /** Our producer's client CPU per message ÷ the raw client's, paired per round. */
  cpuRatio: Record<TransportSide, Spread>;
}

export interface SyncResult {
  messagesPerRound: number;
  concurrency: number;
  warmup: number;
  sequential: ScenarioSummary;
  concurrent: ScenarioSummary;
}

export type RoundOf<T> = Record<Side, T>;

/** Runs `count` sends one after another. */
export async function runSequential(send: SyncSend, count: number): Promise<Run> {
  const latencies = new Float64Array(count);
  let failed = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const sent = process.hrtime.bigint();
    try {
      await send();
    } catch {
      failed++;
    }
    latencies[i] = elapsedMs(sent);
  }
  return { latencies, failed, wallMs: elapsedMs(started) };
}

/** `workers` loops share `count` sends, each loop awaiting its own send before the next. */
export async function runConcurrent(send: SyncSend, count: number, workers: number): Promise<Run> {
  const latencies = new Float64Array(count);
  let failed = 0;
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: Math.min(workers, count) }, async () => {
      while (next < count) {
        const index = next++;
        const sent = process.hrtime.bigint();
        try {
          await send();
        } catch {
          failed++;
        }
        latencies[index] = elapsedMs(sent);
      }
    }),
  );
  return { latencies, failed, wallMs: elapsedMs(started) };
}

/** A side's blocks of one round, added up. */
export class Tally {
  readonly latencies: Float64Array;
  filled = 0;
  wallMs = 0;
  cpuUs = 0;
  brokerCpuMs = 0;
  failed = 0;
  resets: number | null;

  constructor(count: number, side: Side) {
    this.latencies = new Float64Array(count);
    this.resets = side === 'raw' ? null : 0;
  }

  /** Runs one block of `side`, with the CPU of both processes and the client resets around it. */
  async block(context: BenchContext, sides: Sides, side: Side, run: () => Promise<Run>): Promise<void> {
    const resetsBefore = sides.clientResets(side);
    const brokerBefore = await context.broker.snapshot();
    const cpuBefore = process.cpuUsage();
    const result = await run();
    const cpu = process.cpuUsage(cpuBefore);
    const brokerAfter = await context.broker.snapshot();
    const resetsAfter = sides.clientResets(side);
    this.latencies.set(result.latencies, this.filled);
    this.filled += result.latencies.length;
    this.wallMs += result.wallMs;
    this.cpuUs += cpu.user + cpu.system;
    this.brokerCpuMs += brokerAfter.cpuMs - brokerBefore.cpuMs;
    this.failed += result.failed;
    if (this.resets !== null) this.resets += (resetsAfter ?? 0) - (resetsBefore ?? 0);
  }

  measurement(): Measurement {
    const count = this.filled;
    const { p50, p99 } = latencySummary(this.latencies.subarray(0, count));
    return {
      messages: count,
      msgsPerSec: count / (this.wallMs / 1000),
      p50Ms: p50,
      p99Ms: p99,
      failed: this.failed,
      clientCpuUsPerMsg: this.cpuUs / count,
      brokerCpuUsPerMsg: (this.brokerCpuMs * 1000) / count,
      clientResets: this.resets,
    };
  }
}

export function summarizeSide(rounds: readonly Measurement[]): SideSummary {
  const resets = rounds.map((r) => r.clientResets);
  return {
    msgsPerSec: roundSpread(
      spreadOf(rounds, (r) => r.msgsPerSec),
      0,
    ),
    p50Ms: roundSpread(
      spreadOf(rounds, (r) => r.p50Ms),
      3,
    ),
    p99Ms: roundSpread(
      spreadOf(rounds, (r) => r.p99Ms),
      3,
    ),
    clientCpuUsPerMsg: roundSpread(
      spreadOf(rounds, (r) => r.clientCpuUsPerMsg),
      0,
    ),
    brokerCpuUsPerMsg: roundSpread(
      spreadOf(rounds, (r) => r.brokerCpuUsPerMsg),
      0,
    ),
    failed: rounds.reduce((sum, r) => sum + r.failed, 0),
    clientResets: resets.includes(null) ? null : resets.reduce<number>((sum, r) => sum + (r ?? 0), 0),
  };
}

/** Ratio of `pick` for each of our sides over the raw client's, paired per round. */
export function pairedRatios(
  rounds: readonly RoundOf<Measurement>[],
  pick: (m: Measurement) => number,
): Record<TransportSide, Spread> {
  return Object.fromEntries(
    TRANSPORTS.map((side) => [
      side,
      roundSpread(
        spreadOf(rounds, (r) => pick(r[side]) / pick(r.raw)),
        3,
      ),
    ]),
  ) as Record<TransportSide, Spread>;
}

export function summarizeScenario(rounds: readonly RoundOf<Measurement>[]): ScenarioSummary {
  return {
    raw: summarizeSide(rounds.map((r) => r.raw)),
    official: summarizeSide(rounds.map((r) => r.official)),
    lean: summarizeSide(rounds.map((r) => r.lean)),
    ratio: pairedRatios(rounds, (m) => m.msgsPerSec),
    cpuRatio: pairedRatios(rounds, (m) => m.clientCpuUsPerMsg),
  };
}

/** `count` sends per side in `blocks` blocks, the side order rotating per block. */
async function interleaved(
  context: BenchContext,
  sides: Sides,
  count: number,
  blocks: number,
  run: (send: SyncSend, count: number) => Promise<Run>,
): Promise<RoundOf<Measurement>> {
  const tallies = Object.fromEntries(SIDES.map((side) => [side, new Tally(count, side)])) as RoundOf<Tally>;
  const size = Math.ceil(count / blocks);
  for (let block = 0, done = 0; done < count; block++, done += size) {
    const blockCount = Math.min(size, count - done);
    for (const side of rotation(SIDES, block)) {
      await tallies[side].block(context, sides, side, () => run(sides.sync[side], blockCount));
    }
  }
  return Object.fromEntries(SIDES.map((side) => [side, tallies[side].measurement()])) as RoundOf<Measurement>;
}

/** One round of sync sends: sequential, then `concurrency` senders. */
export async function syncRound(
  context: BenchContext,
  sides: Sides,
): Promise<{ sequential: RoundOf<Measurement>; concurrent: RoundOf<Measurement> }> {
  const sequential = await interleaved(context, sides, context.n, SEQUENTIAL_BLOCKS, runSequential);
  const concurrent = await interleaved(context, sides, context.n, CONCURRENT_BLOCKS, (send, count) =>
    runConcurrent(send, count, context.concurrency),
  );
  return { sequential, concurrent };
}
