import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type LocalBroker, startLocalBroker } from '../../infra/local-broker/index.js';
import { createProducer, type Producer } from '../../lib/index.js';
import { instrumentOpenTelemetry, METRIC_NAMES } from '../../lib/otel.js';
import { readBack } from '../support/consumer.js';

class TestMetricReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

let broker: LocalBroker;
let producer: Producer;
let stop: () => void;
const exporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const reader = new TestMetricReader();
const meterProvider = new MeterProvider({ readers: [reader] });
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(async () => {
  context.setGlobalContextManager(contextManager.enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  broker = await startLocalBroker({ newGroupStart: 'oldest' });
  producer = createProducer({ endpoints: broker.endpoint, retry: { baseDelayMs: 5 } });
  stop = instrumentOpenTelemetry({ tracerProvider, meterProvider });
});
afterEach(() => {
  exporter.reset();
  broker.faults.reset();
});
afterAll(async () => {
  stop();
  await producer.shutdown();
  await broker.stop();
  context.disable();
  propagation.disable();
});

describe('OpenTelemetry bridge', () => {
  it('records a PRODUCER span per send with the messaging attributes, under the active span', async () => {
    const tracer = tracerProvider.getTracer('test');
    const parent = tracer.startSpan('handle order');
    const result = await context.with(trace.setSpan(context.active(), parent), () =>
      producer.send({ topic: 'orders', tag: 'OrderCreated', keys: ['ORDERID_7'], body: { id: 7 } }),
    );
    parent.end();
    const span = exporter.getFinishedSpans().find((s) => s.name === 'send orders');
    expect(span?.kind).toBe(SpanKind.PRODUCER);
    expect(span?.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(span?.attributes).toMatchObject({
      'messaging.system': 'rocketmq',
      'messaging.operation.name': 'send',
      'messaging.destination.name': 'orders',
      'messaging.message.id': result.messageId,
      'messaging.rocketmq.message.tag': 'OrderCreated',
      'messaging.rocketmq.message.keys': ['ORDERID_7'],
      'messaging.rocketmq.message.type': 'normal',
      'rocketmq.send.mode': 'sync',
    });
    // The message carries the send span's context, so a consumer continues this trace.
    const stored = broker.messages('orders').find((m) => m.messageId === result.messageId);
    expect(stored?.properties.traceparent).toBe(
      `00-${span?.spanContext().traceId}-${span?.spanContext().spanId}-01`,
    );
  });

  it('marks failed sends with error.type and ERROR status, retries as events', async () => {
    await producer.send({ topic: 'orders', body: 'warm-up' });
    broker.faults.failNextSends(1, 50001);
    await producer.send({ topic: 'orders', keys: ['retried'], body: 'x' });
    broker.faults.failNextSends(1, 40300);
    await producer.send({ topic: 'orders', keys: ['refused'], body: 'x' }).catch(() => undefined);
    const spans = exporter.getFinishedSpans();
    const retried = spans.find(
      (s) => (s.attributes['messaging.rocketmq.message.keys'] as string[])?.[0] === 'retried',
    );
    expect(retried?.events.map((e) => e.name)).toEqual(['retry']);
    const refused = spans.find(
      (s) => (s.attributes['messaging.rocketmq.message.keys'] as string[])?.[0] === 'refused',
    );
    expect(refused?.status.code).toBe(SpanStatusCode.ERROR);
    expect(refused?.attributes['error.type']).toBe('FORBIDDEN');
  });

  it('records the send duration histogram and counters by topic, mode and outcome', async () => {
    producer.sendOneway({ topic: 'metrics', body: 'x' });
    await producer.drain();
    const { resourceMetrics } = await reader.collect();
    const all = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
    const names = all.map((metric) => metric.descriptor.name);
    expect(names).toEqual(
      expect.arrayContaining([METRIC_NAMES.duration, METRIC_NAMES.sent, METRIC_NAMES.retries]),
    );
    const sent = all.find((metric) => metric.descriptor.name === METRIC_NAMES.sent);
    const attributes = sent?.dataPoints.map((point) => point.attributes) ?? [];
    expect(attributes).toContainEqual(
      expect.objectContaining({ 'messaging.destination.name': 'metrics', 'rocketmq.send.mode': 'oneway' }),
    );
    expect(attributes).toContainEqual(expect.objectContaining({ 'error.type': 'FORBIDDEN' }));
    const duration = all.find((metric) => metric.descriptor.name === METRIC_NAMES.duration);
    expect(duration?.descriptor.unit).toBe('s');
  });

  it('the trace reaches a consumer through the broker', async () => {
    const tracer = tracerProvider.getTracer('test');
    const parent = tracer.startSpan('upload');
    const result = await context.with(trace.setSpan(context.active(), parent), () =>
      producer.send({ topic: 'object-events', keys: ['traced'], body: 'x' }),
    );
    parent.end();
    const received = await readBack(broker.endpoint, 'object-events', (ms) =>
      ms.some((m) => m.messageId === result.messageId),
    );
    const message = received.find((m) => m.messageId === result.messageId);
    const carried = message?.properties.get('traceparent') ?? '';
    expect(carried.split('-')[1]).toBe(parent.spanContext().traceId);
  });
});
