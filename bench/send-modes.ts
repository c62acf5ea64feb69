/**
 * Sync and async sends, one round after the other: each round runs sync sequential, sync concurrent,
 * async unbounded and async windowed on all three sides (bench/sides.ts), so an async figure is paired
 * with the sync figures of its own round.
 */
import { type AsyncResult, type AsyncRound, asyncRound, pipelined, summarizeAsync } from './async.js';
import type { BenchContext } from './context.js';
import { SIDES, startSides } from './sides.js';
import {
  type Measurement,
  type RoundOf,
  runConcurrent,
  runSequential,
  type SyncResult,
  summarizeScenario,
  syncRound,
} from './sync.js';

export async function benchSendModes(
  context: BenchContext,
): Promise<{ sync: SyncResult; async: AsyncResult }> {
  const warmup = context.quick ? 50 : 500;
  const sides = await startSides(context);
  try {
    // Connections, route lookups and JIT warm-up happen here, not in the measured rounds.
    for (const side of SIDES) {
      await runSequential(sides.sync[side], warmup);
      await runConcurrent(sides.sync[side], warmup, context.concurrency);
      await pipelined(sides.async[side], warmup, warmup);
    }
    const sequential: RoundOf<Measurement>[] = [];
    const concurrent: RoundOf<Measurement>[] = [];
    const asyncRounds: AsyncRound[] = [];
    for (let round = 0; round < context.rounds; round++) {
      context.progress(`sync and async round ${round + 1}/${context.rounds}`);
      globalThis.gc?.();
      const sync = await syncRound(context, sides);
      sequential.push(sync.sequential);
      concurrent.push(sync.concurrent);
      asyncRounds.push(await asyncRound(context, sides, round));
    }
    return {
      sync: {
        messagesPerRound: context.n,
        concurrency: context.concurrency,
        warmup,
        sequential: summarizeScenario(sequential),
        concurrent: summarizeScenario(concurrent),
      },
      async: summarizeAsync(context, asyncRounds, sequential),
    };
  } finally {
    await sides.shutdown();
  }
}
