import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { ProducerStats } from 'rocketmq-serverless';

/** One data point; each becomes one record of a pack. */
export interface DataPoint {
  name: string;
  value: number;
  unit: 'bytes' | 'ms' | 'count';
  /** When the tick that collected it fired. */
  time: string;
}

// Sampled for the life of the instance; each report reads and resets it, so a point covers one period.
const loopDelay = monitorEventLoopDelay({ resolution: 20 });
loopDelay.enable();

export function processPoints(time: string): DataPoint[] {
  const memory = process.memoryUsage();
  const delay = (nanoseconds: number) => Math.round(nanoseconds / 1e4) / 100;
  const points: DataPoint[] = [
    { name: 'process.memory.rss', value: memory.rss, unit: 'bytes', time },
    { name: 'process.memory.heapUsed', value: memory.heapUsed, unit: 'bytes', time },
    { name: 'process.eventLoop.delay.p50', value: delay(loopDelay.percentile(50)), unit: 'ms', time },
    { name: 'process.eventLoop.delay.p99', value: delay(loopDelay.percentile(99)), unit: 'ms', time },
  ];
  loopDelay.reset();
  return points;
}

export function producerPoints(stats: ProducerStats, time: string): DataPoint[] {
  const points: DataPoint[] = [];
  for (const mode of ['sync', 'async', 'oneway'] as const) {
    for (const [counter, value] of Object.entries(stats[mode])) {
      points.push({ name: `producer.${mode}.${counter}`, value, unit: 'count', time });
    }
  }
  points.push(
    { name: 'producer.latency.p50', value: stats.latencyMs.p50, unit: 'ms', time },
    { name: 'producer.latency.p99', value: stats.latencyMs.p99, unit: 'ms', time },
  );
  return points;
}

const GAUGE_NAME = /^[A-Za-z0-9_.:-]{1,128}$/;
const MAX_GAUGES = 100;

/**
 * The timer payload may carry gauges of its own: `{ "gauges": { "orders.pending": 12 } }`. Entries that
 * are not finite numbers under a plain name are skipped and reported back, never sent.
 */
export function payloadPoints(payload: unknown, time: string): { points: DataPoint[]; skipped: string[] } {
  const gauges = (payload as { gauges?: unknown } | undefined)?.gauges;
  if (typeof gauges !== 'object' || gauges === null || Array.isArray(gauges))
    return { points: [], skipped: [] };
  const points: DataPoint[] = [];
  const skipped: string[] = [];
  for (const [name, value] of Object.entries(gauges)) {
    if (
      points.length < MAX_GAUGES &&
      GAUGE_NAME.test(name) &&
      typeof value === 'number' &&
      Number.isFinite(value)
    ) {
      points.push({ name, value, unit: 'count', time });
    } else {
      skipped.push(name.slice(0, 128));
    }
  }
  return { points, skipped };
}
