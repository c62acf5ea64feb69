import { fcEventHandler, fcInitializer, fcPreStop } from 'rocketmq-serverless/fc';
import { fromRocketMQEvent } from 'rocketmq-serverless/triggers';
import { topics } from '../topics.js';
import { fulfilOrders } from './handler.js';

/** FC: the RocketMQ triggers on `orders` and `orders-retry` hand over batches of CloudEvents. */
export const handler = fcEventHandler((event, invocation) =>
  fulfilOrders(fromRocketMQEvent(event as Parameters<typeof fromRocketMQEvent>[0]), invocation),
);
export const initializer = fcInitializer({
  warmTopics: [topics.shipments, topics.ordersRetry, topics.ordersDeadLetter],
});
export const preStop = fcPreStop();
