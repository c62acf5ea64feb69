/**
 * 8. What observing a send costs: the sync and oneway paths with nobody listening, with a no-op
 * subscriber on every diagnostics channel, and with the OpenTelemetry bridge recording spans and
 * metrics into memory. The variants alternate within every round so noise hits all three.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { CHANNEL_NAMES } from '../lib/diagnostics.js';
import { createProducer, type Producer } from '../lib/index.js';
import { instrumentOpenTelemetry } from '../lib/otel.js';
import { type BenchContext, BODY, elapsedMs, ONEWAY_TOPIC, SYNC_TOPIC } from './context.js';
import { latencySummary, roundSpread, type Spread, spreadOf } from './stats.js';

type Variant = 'none' | 'channels' | 'otel';
const VARIANTS: readonly Variant[] = ['none', 'channels', 'otel'];

class DiscardingMetricReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** Turns a variant on; returns what turns it off again. */
function enable(variant: Variant): () => void {
  if (variant === 'none') return () => undefined;
  if (variant === 'channels') {
    const noop = () => undefined;
    for (const name of Object.values(CHANNEL_NAMES)) subscribe(name, noop);
    return () => {
      for (const name of Object.values(CHANNEL_NAMES)) unsubscribe(name, noop);
    };
  }
  const exporter = new InMemorySpanExporter();
  const stop = instrumentOpenTelemetry({
    tracerProvider: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
    meterProvider: new MeterProvider({ readers: [new DiscardingMetricReader()] }),
  });
  return () => {
    stop();
    exporter.reset();
  };
}

interface VariantRound {
  syncMsgsPerSec: number;
  syncCpuUsPerMsg: number;
  onewayReturnP50Us: number;
}

async function measure(producer: Producer, n: number, onewayN: number): Promise<VariantRound> {
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await producer.send({ topic: SYNC_TOPIC, keys: [`k${i}`], body: BODY });
  const wallMs = elapsedMs(started);
  const used = process.cpuUsage(cpu);
  const returns = new Float64Array(onewayN);
  for (let i = 0; i < onewayN; i++) {
    const before = process.hrtime.bigint();
    producer.sendOneway({ topic: ONEWAY_TOPIC, keys: [`o${i}`], body: BODY });
    returns[i] = Number(process.hrtime.bigint() - before) / 1000;
  }
  await producer.drain({ timeoutMs: 30_000 });
  return {
    syncMsgsPerSec: n / (wallMs / 1000),
    syncCpuUsPerMsg: (used.user + used.system) / n,
    onewayReturnP50Us: latencySummary(returns).p50,
  };
}

export interface InstrumentationSummary {
  syncMsgsPerSec: Spread;
  syncCpuUsPerMsg: Spread;
  onewayReturnP50Us: Spread;
  /** Sync msgs/s of this variant ÷ nobody listening, paired per round. */
  syncRatio: Spread;
}

export type InstrumentationResult = Record<Variant, InstrumentationSummary> & { messagesPerRound: number };

export async function benchInstrumentation(context: BenchContext): Promise<InstrumentationResult> {
  const producer = createProducer({ endpoints: context.endpoint });
  const onewayN = Math.min(context.onewayN, 5000);
  try {
    await measure(producer, Math.min(200, context.n), 200);
    const rounds: Array<Record<Variant, VariantRound>> = [];
    for (let round = 0; round < context.rounds; round++) {
      context.progress(`instrumentation round ${round + 1}/${context.rounds}`);
      const results: Partial<Record<Variant, VariantRound>> = {};
      const order = round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
      for (const variant of order) {
        const disable = enable(variant);
        try {
          results[variant] = await measure(producer, context.n, onewayN);
        } finally {
          disable();
        }
      }
      rounds.push(results as Record<Variant, VariantRound>);
    }
    const summary = (variant: Variant): InstrumentationSummary => ({
      syncMsgsPerSec: roundSpread(
        spreadOf(rounds, (r) => r[variant].syncMsgsPerSec),
        0,
      ),
      syncCpuUsPerMsg: roundSpread(
        spreadOf(rounds, (r) => r[variant].syncCpuUsPerMsg),
        1,
      ),
      onewayReturnP50Us: roundSpread(
        spreadOf(rounds, (r) => r[variant].onewayReturnP50Us),
        2,
      ),
      syncRatio: roundSpread(
        spreadOf(rounds, (r) => r[variant].syncMsgsPerSec / r.none.syncMsgsPerSec),
        3,
      ),
    });
    return {
      none: summary('none'),
      channels: summary('channels'),
      otel: summary('otel'),
      messagesPerRound: context.n,
    };
  } finally {
    await producer.shutdown();
  }
}
