import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import {
  type Attributes,
  context,
  type MeterProvider,
  metrics,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import {
  CHANNEL_NAMES,
  type SendDropEvent,
  type SendErrorEvent,
  type SendRetryEvent,
  type SendSpoolEvent,
  type SendStartEvent,
  type SendSuccessEvent,
} from './diagnostics.js';

/**
 * OpenTelemetry for every send, from the diagnostics channels: a PRODUCER span per message following the
 * messaging semantic conventions for RocketMQ, its context injected into the message (`traceparent`)
 * so consumers continue the trace, and duration and outcome metrics. `@opentelemetry/api` is an
 * optional peer dependency: only this entry point (`rocketmq-serverless/otel`) loads it.
 */
export interface OpenTelemetryOptions {
  /** @default the global tracer provider */
  tracerProvider?: TracerProvider;
  /** @default the global meter provider */
  meterProvider?: MeterProvider;
}

export const INSTRUMENTATION_NAME = 'rocketmq-serverless';

/** Metric names, for dashboards and alerts. */
export const METRIC_NAMES = {
  duration: 'messaging.client.operation.duration',
  sent: 'messaging.client.sent.messages',
  retries: 'rocketmq.client.send.retries',
  spooled: 'rocketmq.client.send.spooled',
  dropped: 'rocketmq.client.send.dropped',
} as const;

function commonAttributes(event: { topic: string; mode: string }): Attributes {
  return {
    'messaging.system': 'rocketmq',
    'messaging.operation.name': 'send',
    'messaging.operation.type': 'send',
    'messaging.destination.name': event.topic,
    'rocketmq.send.mode': event.mode,
  };
}

/** Starts instrumenting; returns a function that stops it. */
export function instrumentOpenTelemetry(options: OpenTelemetryOptions = {}): () => void {
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(INSTRUMENTATION_NAME);
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(INSTRUMENTATION_NAME);
  const duration = meter.createHistogram(METRIC_NAMES.duration, {
    unit: 's',
    description: 'Duration of a send, retries included',
  });
  const sent = meter.createCounter(METRIC_NAMES.sent, {
    unit: '{message}',
    description: 'Messages a send finished for',
  });
  const retries = meter.createCounter(METRIC_NAMES.retries, {
    unit: '{attempt}',
    description: 'Extra attempts',
  });
  const spooled = meter.createCounter(METRIC_NAMES.spooled, {
    unit: '{message}',
    description: 'Failed sends spooled',
  });
  const dropped = meter.createCounter(METRIC_NAMES.dropped, {
    unit: '{message}',
    description: 'Oneway sends abandoned at a drain deadline',
  });
  const spans = new Map<number, Span>();

  const onStart = (message: unknown) => {
    const event = message as SendStartEvent;
    // Continue the trace the message already carries when no span is active (e.g. no HTTP
    // instrumentation, but the platform wrapper put the incoming traceparent on the message).
    const parent = trace.getSpan(context.active())
      ? context.active()
      : propagation.extract(context.active(), event.properties);
    const span = tracer.startSpan(
      `send ${event.topic}`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          ...commonAttributes(event),
          'messaging.rocketmq.message.type': event.messageType.toLowerCase(),
          ...(event.tag !== undefined && { 'messaging.rocketmq.message.tag': event.tag }),
          ...(event.keys.length > 0 && { 'messaging.rocketmq.message.keys': [...event.keys] }),
        },
      },
      parent,
    );
    spans.set(event.sendId, span);
    propagation.inject(trace.setSpan(parent, span), event.properties);
  };
  const onRetry = (message: unknown) => {
    const event = message as SendRetryEvent;
    retries.add(1, commonAttributes(event));
    spans.get(event.sendId)?.addEvent('retry', { attempt: event.attempt, 'error.type': event.error.code });
  };
  const onSuccess = (message: unknown) => {
    const event = message as SendSuccessEvent;
    const attributes = commonAttributes(event);
    duration.record(event.durationMs / 1000, attributes);
    sent.add(1, attributes);
    const span = spans.get(event.sendId);
    spans.delete(event.sendId);
    if (event.messageId !== undefined) span?.setAttribute('messaging.message.id', event.messageId);
    span?.end();
  };
  const onError = (message: unknown) => {
    const event = message as SendErrorEvent;
    const attributes = { ...commonAttributes(event), 'error.type': event.error.code };
    duration.record(event.durationMs / 1000, attributes);
    sent.add(1, attributes);
    const span = spans.get(event.sendId);
    spans.delete(event.sendId);
    span?.recordException(event.error);
    span?.setAttribute('error.type', event.error.code);
    span?.setStatus({ code: SpanStatusCode.ERROR, message: event.error.message });
    span?.end();
  };
  const onSpool = (message: unknown) => spooled.add(1, commonAttributes(message as SendSpoolEvent));
  const onDrop = (message: unknown) => {
    const event = message as SendDropEvent;
    dropped.add(1, commonAttributes(event));
    const span = spans.get(event.sendId);
    spans.delete(event.sendId);
    span?.setStatus({ code: SpanStatusCode.ERROR, message: 'dropped at the drain deadline' });
    span?.end();
  };

  const handlers: Array<[string, (message: unknown) => void]> = [
    [CHANNEL_NAMES.start, onStart],
    [CHANNEL_NAMES.retry, onRetry],
    [CHANNEL_NAMES.success, onSuccess],
    [CHANNEL_NAMES.error, onError],
    [CHANNEL_NAMES.spool, onSpool],
    [CHANNEL_NAMES.drop, onDrop],
  ];
  for (const [name, handler] of handlers) subscribe(name, handler);
  return () => {
    for (const [name, handler] of handlers) unsubscribe(name, handler);
    for (const span of spans.values()) span.end();
    spans.clear();
  };
}
