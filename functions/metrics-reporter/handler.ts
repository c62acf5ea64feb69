import type { RedeliverReport } from '../../lib/index.js';
import type { Invocation } from '../../lib/platforms/invocation.js';
import { fromTimerEvent } from '../../lib/triggers/index.js';
import { topics } from '../topics.js';
import { payloadPoints, processPoints, producerPoints } from './collect.js';

export interface ReportResult {
  /** Data points handed to `sendOneway`. */
  reported: number;
  /** Gauges in the payload that were not valid numbers. */
  skipped: string[];
  /** What the spool gave back, when the producer has one. */
  redelivered?: RedeliverReport;
}

/**
 * Timer → process, producer and payload metrics → one **oneway** message per data point (losing one
 * point now and then is fine for metrics, blocking the timer is not). Also the natural place to resend
 * what async functions spooled.
 */
export async function reportMetrics(event: unknown, invocation: Invocation): Promise<ReportResult> {
  const tick = fromTimerEvent(event as Parameters<typeof fromTimerEvent>[0]);
  const { producer } = invocation;
  const custom = payloadPoints(tick.payload, tick.time);
  const points = [
    ...processPoints(tick.time),
    ...producerPoints(producer.stats(), tick.time),
    ...custom.points,
  ];
  for (const point of points) {
    producer.sendOneway({
      topic: topics.metrics,
      tag: point.name.split('.')[0] ?? 'metric',
      keys: [point.name],
      body: { ...point, source: invocation.functionName, trigger: tick.name },
    });
  }
  const result: ReportResult = { reported: points.length, skipped: custom.skipped };
  if (producer.spool) result.redelivered = await producer.redeliverSpool({ deadline: invocation.deadline });
  invocation.logger.info({
    message: 'metrics reported',
    reported: result.reported,
    redelivered: result.redelivered,
  });
  return result;
}
