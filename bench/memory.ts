/**
 * 6. Memory of the process that sends (the broker runs elsewhere):
 * - 100,000 oneway sends with default settings, as 100 warm invocations of 1,000 sends each followed
 *   by a drain (a burst of 100,000 sends would outlive their 3 s send timeout); heap and RSS before,
 *   right after the sends, and after drain + GC.
 * - 10 rounds of warm invocations of order-confirmation's FC handler against the broker, heap after a
 *   GC at the end of each round; the least-squares slope says whether it keeps growing.
 */
import { readFileSync } from 'node:fs';
import { fcContext } from '../infra/emulate.js';
import { createProducer, getProducer, shutdownSharedProducer } from '../lib/index.js';
import { type BenchContext, BODY, forceGc, MiB, ONEWAY_TOPIC } from './context.js';
import { round, slope } from './stats.js';

export interface MemorySample {
  rssMiB: number;
  heapUsedMiB: number;
}

export interface OnewayMemory {
  sends: number;
  how: string;
  before: MemorySample;
  /** Right after the last send call, before any drain and without a GC. */
  afterSends: MemorySample;
  /** Largest heap seen right after a chunk of sends (same as afterSends for a single burst). */
  peakHeapUsedMiB: number;
  afterDrainAndGc: MemorySample;
  sent: number;
  failed: number;
  dropped: number;
  seconds: number;
}

export interface InvocationMemory {
  rounds: number;
  invocationsPerRound: number;
  /** heapUsed after a GC at the end of each round. */
  heapUsedMiB: number[];
  rssMiB: number[];
  /** Least-squares slope of heapUsed over rounds, in KiB per round (all rounds, then from round 2). */
  heapSlopeKiBPerRound: number;
  heapSlopeKiBPerRoundAfterFirst: number;
  /** Whether heapUsed rose in every round. */
  monotonicGrowth: boolean;
  failedInvocations: number;
}

export interface MemoryResult {
  gcExposed: boolean;
  oneway: OnewayMemory[] | undefined;
  invocations: InvocationMemory;
}

function sample(gc: boolean): MemorySample {
  if (gc) forceGc();
  const { rss, heapUsed } = process.memoryUsage();
  return { rssMiB: round(rss / MiB, 1), heapUsedMiB: round(heapUsed / MiB, 1) };
}

async function onewayMemory(context: BenchContext, total: number, chunk: number): Promise<OnewayMemory> {
  const producer = createProducer({ endpoints: context.endpoint });
  try {
    // Starts the client so that its own allocations are in the baseline.
    producer.sendOneway({ topic: ONEWAY_TOPIC, body: BODY });
    await producer.drain({ timeoutMs: 10_000 });
    const initial = producer.stats().oneway;
    const before = sample(true);
    const started = process.hrtime.bigint();
    let afterSends = before;
    let peak = 0;
    const message = { topic: ONEWAY_TOPIC, body: BODY };
    for (let done = 0; done < total; done += chunk) {
      for (let i = 0; i < chunk && done + i < total; i++) producer.sendOneway(message);
      afterSends = sample(false);
      peak = Math.max(peak, afterSends.heapUsedMiB);
      if (done + chunk < total) await producer.drain({ timeoutMs: 60_000 });
    }
    await producer.drain({ timeoutMs: 120_000 });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const stats = producer.stats().oneway;
    return {
      sends: total,
      how: `${Math.ceil(total / chunk)} × ${chunk.toLocaleString('en-US')} then drain`,
      before,
      afterSends,
      peakHeapUsedMiB: peak,
      afterDrainAndGc: sample(true),
      sent: stats.sent - initial.sent,
      failed: stats.failed - initial.failed,
      dropped: stats.dropped - initial.dropped,
      seconds: round(seconds, 1),
    };
  } finally {
    await producer.shutdown();
  }
}

async function invocationMemory(context: BenchContext): Promise<InvocationMemory> {
  const rounds = context.quick ? 3 : 10;
  const perRound = context.quick ? 50 : 1000;
  await shutdownSharedProducer();
  getProducer({ endpoints: context.endpoint });
  const { handler } = (await import('../functions/order-confirmation/fc.js')) as {
    handler: (event: unknown, context: unknown) => Promise<{ statusCode: number }>;
  };
  const event = readFileSync(new URL('../events/fc/http-order.json', import.meta.url));
  let failed = 0;
  const invoke = async () => {
    const response = await handler(event, fcContext('order-confirmation'));
    if (response.statusCode !== 200) failed++;
  };
  try {
    for (let i = 0; i < Math.min(perRound, 200); i++) await invoke();
    const heap: number[] = [];
    const rss: number[] = [];
    for (let r = 0; r < rounds; r++) {
      context.progress(`memory: invocation round ${r + 1}/${rounds}`);
      for (let i = 0; i < perRound; i++) await invoke();
      const now = sample(true);
      heap.push(now.heapUsedMiB);
      rss.push(now.rssMiB);
    }
    return {
      rounds,
      invocationsPerRound: perRound,
      heapUsedMiB: heap,
      rssMiB: rss,
      heapSlopeKiBPerRound: round(slope(heap) * 1024, 1),
      heapSlopeKiBPerRoundAfterFirst: round(slope(heap.slice(1)) * 1024, 1),
      monotonicGrowth: heap.every((value, i) => i === 0 || value > (heap[i - 1] ?? 0)),
      failedInvocations: failed,
    };
  } finally {
    await shutdownSharedProducer();
  }
}

export async function benchMemory(context: BenchContext): Promise<MemoryResult> {
  let oneway: OnewayMemory[] | undefined;
  if (!context.quick) {
    context.progress('memory: 100,000 oneway sends, default settings');
    oneway = [await onewayMemory(context, 100_000, 1000)];
  }
  return {
    gcExposed: typeof globalThis.gc === 'function',
    oneway,
    invocations: await invocationMemory(context),
  };
}
