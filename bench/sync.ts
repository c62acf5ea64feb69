/**
 * 1. Sync sends: the official client's `Producer.send` against our `producer.send`, sequentially and at a
 * fixed concurrency. Within every round raw and ours alternate in blocks (raw, ours, ours, raw, raw,
 * ours…: 10 blocks each sequentially, 4 at concurrency), so a burst of machine noise hits both and
 * neither always goes first. The round's figure for a side adds up its blocks. Each measurement also
 * records the CPU time the client process and the broker process spent per message.
 */
import { Producer as RawProducer } from 'rocketmq-client-nodejs';
import { createProducer } from '../lib/index.js';
import { type BenchContext, BODY, elapsedMs, SYNC_TOPIC, silentClientLogger } from './context.js';
import { latencySummary, roundSpread, type Spread, spreadOf } from './stats.js';

type Send = () => Promise<unknown>;
type Run = { latencies: Float64Array; failed: number; wallMs: number };

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
}

export interface SideSummary {
  msgsPerSec: Spread;
  p50Ms: Spread;
  p99Ms: Spread;
  clientCpuUsPerMsg: Spread;
  brokerCpuUsPerMsg: Spread;
  failed: number;
}

export interface ScenarioSummary {
  raw: SideSummary;
  ours: SideSummary;
  /** ours/raw msgs/s, paired per round. */
  ratio: Spread;
}

export interface SyncResult {
  messagesPerRound: number;
  concurrency: number;
  warmup: number;
  sequential: ScenarioSummary;
  concurrent: ScenarioSummary;
}

/** Runs `count` sends one after another; returns per-send latencies and the wall time. */
async function runSequential(send: Send, count: number): Promise<Run> {
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
async function runConcurrent(send: Send, count: number, workers: number): Promise<Run> {
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

/** One measured run with the CPU of both processes around it. */
export async function measure(
  context: BenchContext,
  count: number,
  run: () => Promise<{ latencies: Float64Array; failed: number; wallMs: number }>,
): Promise<Measurement> {
  const brokerBefore = await context.broker.snapshot();
  const cpuBefore = process.cpuUsage();
  const { latencies, failed, wallMs } = await run();
  const cpu = process.cpuUsage(cpuBefore);
  const brokerAfter = await context.broker.snapshot();
  const { p50, p99 } = latencySummary(latencies);
  return {
    messages: count,
    msgsPerSec: count / (wallMs / 1000),
    p50Ms: p50,
    p99Ms: p99,
    failed,
    clientCpuUsPerMsg: (cpu.user + cpu.system) / count,
    brokerCpuUsPerMsg: ((brokerAfter.cpuMs - brokerBefore.cpuMs) * 1000) / count,
  };
}

export function summarizeSide(rounds: readonly Measurement[]): SideSummary {
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
  };
}

function summarizeScenario(raw: Measurement[], ours: Measurement[]): ScenarioSummary {
  const ratios = raw.map((r, i) => (ours[i]?.msgsPerSec ?? Number.NaN) / r.msgsPerSec);
  return {
    raw: summarizeSide(raw),
    ours: summarizeSide(ours),
    ratio: roundSpread(
      spreadOf(ratios, (r) => r),
      3,
    ),
  };
}

interface Accumulator {
  latencies: Float64Array;
  filled: number;
  wallMs: number;
  cpuUs: number;
  brokerCpuMs: number;
  failed: number;
}

/** Runs `count` sends per side as alternating blocks; returns one measurement per side. */
async function interleaved(
  context: BenchContext,
  sends: readonly [Send, Send],
  count: number,
  blocks: number,
  run: (send: Send, count: number) => Promise<Run>,
): Promise<[Measurement, Measurement]> {
  const sides: Accumulator[] = [0, 1].map(() => ({
    latencies: new Float64Array(count),
    filled: 0,
    wallMs: 0,
    cpuUs: 0,
    brokerCpuMs: 0,
    failed: 0,
  }));
  const size = Math.ceil(count / blocks);
  for (let block = 0, done = 0; done < count; block++, done += size) {
    const blockCount = Math.min(size, count - done);
    for (const index of block % 2 === 0 ? [0, 1] : [1, 0]) {
      const side = sides[index] as Accumulator;
      const brokerBefore = await context.broker.snapshot();
      const cpuBefore = process.cpuUsage();
      const result = await run(sends[index] as Send, blockCount);
      const cpu = process.cpuUsage(cpuBefore);
      const brokerAfter = await context.broker.snapshot();
      side.latencies.set(result.latencies, side.filled);
      side.filled += blockCount;
      side.wallMs += result.wallMs;
      side.cpuUs += cpu.user + cpu.system;
      side.brokerCpuMs += brokerAfter.cpuMs - brokerBefore.cpuMs;
      side.failed += result.failed;
    }
  }
  const toMeasurement = (side: Accumulator): Measurement => {
    const { p50, p99 } = latencySummary(side.latencies);
    return {
      messages: count,
      msgsPerSec: count / (side.wallMs / 1000),
      p50Ms: p50,
      p99Ms: p99,
      failed: side.failed,
      clientCpuUsPerMsg: side.cpuUs / count,
      brokerCpuUsPerMsg: (side.brokerCpuMs * 1000) / count,
    };
  };
  return [toMeasurement(sides[0] as Accumulator), toMeasurement(sides[1] as Accumulator)];
}

export async function benchSync(context: BenchContext): Promise<SyncResult> {
  const { n, concurrency, rounds } = context;
  const warmup = context.quick ? 50 : 500;
  // The raw client as a user would start it: no topics up front, default maxAttempts, silent logger.
  const raw = new RawProducer({ endpoints: context.endpoint, namespace: '', logger: silentClientLogger });
  const ours = createProducer({ endpoints: context.endpoint });
  const sends = [
    () => raw.send({ topic: SYNC_TOPIC, body: BODY }),
    () => ours.send({ topic: SYNC_TOPIC, body: BODY }),
  ] as const;
  await raw.startup();
  try {
    // Connection setup, route lookups and JIT warm-up happen here, not in the measured rounds.
    for (const send of sends) await runSequential(send, warmup);
    for (const send of sends) await runConcurrent(send, warmup, concurrency);
    const measured = {
      sequential: { raw: [] as Measurement[], ours: [] as Measurement[] },
      concurrent: { raw: [] as Measurement[], ours: [] as Measurement[] },
    };
    for (let round = 0; round < rounds; round++) {
      context.progress(`sync round ${round + 1}/${rounds}`);
      const sequential = await interleaved(context, sends, n, SEQUENTIAL_BLOCKS, runSequential);
      const concurrent = await interleaved(context, sends, n, CONCURRENT_BLOCKS, (send, count) =>
        runConcurrent(send, count, concurrency),
      );
      measured.sequential.raw.push(sequential[0]);
      measured.sequential.ours.push(sequential[1]);
      measured.concurrent.raw.push(concurrent[0]);
      measured.concurrent.ours.push(concurrent[1]);
    }
    return {
      messagesPerRound: n,
      concurrency,
      warmup,
      sequential: summarizeScenario(measured.sequential.raw, measured.sequential.ours),
      concurrent: summarizeScenario(measured.concurrent.raw, measured.concurrent.ours),
    };
  } finally {
    await Promise.all([raw.shutdown(), ours.shutdown()]);
  }
}
