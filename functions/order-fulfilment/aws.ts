import { pollMessages } from 'rocketmq-serverless/consumer';
import { lambdaHandler } from 'rocketmq-serverless/lambda';
import { fromScheduledEvent } from 'rocketmq-serverless/triggers';
import { topics } from '../topics.js';
import { type FulfilmentResult, fulfilOrder, processOptions } from './handler.js';

/**
 * Lambda has no RocketMQ event source: an EventBridge schedule runs this function, which polls `orders`
 * and then `orders-retry` with the time left, as one consumer group.
 */
export const handler = lambdaHandler(async (event, invocation): Promise<FulfilmentResult> => {
  fromScheduledEvent(event as Parameters<typeof fromScheduledEvent>[0]);
  const consumerGroup = process.env.ORDER_FULFILMENT_GROUP || 'order-fulfilment';
  const total: FulfilmentResult = { processed: 0, failed: 0, retried: 0, deadLettered: 0 };
  for (const topic of [topics.orders, topics.ordersRetry]) {
    const report = await pollMessages({
      ...processOptions(invocation),
      topic,
      consumerGroup,
      handler: fulfilOrder(invocation),
    });
    total.processed += report.processed;
    total.failed += report.failed;
    total.retried += report.retried;
    total.deadLettered += report.deadLettered;
  }
  return total;
});
