import type { Invocation } from 'rocketmq-serverless';
import { Packer } from 'rocketmq-serverless';
import type { RedeliverReport } from 'rocketmq-serverless/spool';
import { fromTimerEvent } from 'rocketmq-serverless/triggers';
import { topics } from '../topics.js';
import { payloadPoints, processPoints, producerPoints } from './collect.js';

export interface ReportResult {
  /** Data points reported. */
  reported: number;
  /** Messages handed to `sendOneway`: the points packed, one pack per tag. */
  messages: number;
  /** Gauges in the payload that were not valid numbers. */
  skipped: string[];
  /** What the spool gave back, when the producer has one. */
  redelivered?: RedeliverReport;
}

/**
 * Timer → process, producer and payload metrics → **oneway** messages, the points of one tag packed
 * into one message (read them with `unpack`; losing a pack now and then is fine for metrics, blocking
 * the timer is not). Also the natural place to resend what async functions spooled.
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
  const packer = new Packer(producer);
  for (const point of points) {
    packer.add(
      topics.metrics,
      { keys: [point.name], body: { ...point, source: invocation.functionName, trigger: tick.name } },
      { tag: point.name.split('.')[0] ?? 'metric' },
    );
  }
  const messages = packer.flush();
  packer.close();
  const result: ReportResult = { reported: points.length, messages, skipped: custom.skipped };
  if (producer.spool) result.redelivered = await producer.redeliverSpool({ deadline: invocation.deadline });
  invocation.logger.info({
    message: 'metrics reported',
    reported: result.reported,
    messages: result.messages,
    redelivered: result.redelivered,
  });
  return result;
}
