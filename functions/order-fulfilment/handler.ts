import {
  ErrorCode,
  type Invocation,
  type MessageHandler,
  type ProcessReport,
  processMessages,
  type ReceivedMessage,
  RocketMQError,
} from 'rocketmq-serverless';
import { parseOrder } from '../order-confirmation/order.js';
import { topics } from '../topics.js';
import { initialStock, reserveStock } from './stock.js';

export interface FulfilmentResult {
  processed: number;
  failed: number;
  retried: number;
  deadLettered: number;
}

/** Attempts of one order, the first included, before it goes to the dead-letter topic. */
export const MAX_ATTEMPTS = 3;

// This instance's view of the warehouse: an example; a real one keeps stock in a database.
let stock = initialStock();

/** Back to the initial stock; for tests. */
export function resetStock(): void {
  stock = initialStock();
}

/**
 * One order: parse, reserve its stock (all items or none), then one `shipments` message per item with
 * async sends, drained by the platform wrapper before the invocation returns. An order that cannot be
 * reserved fails and goes to the retry topic; after {@link MAX_ATTEMPTS}, to the dead-letter topic.
 */
export function fulfilOrder(invocation: Invocation): MessageHandler<number> {
  return (message: ReceivedMessage) => {
    const order = parseOrder(message.json());
    const reserved = reserveStock(order, stock);
    if (!reserved.ok) {
      throw new RocketMQError(
        ErrorCode.BAD_REQUEST,
        `order ${order.orderId}: not enough stock for ${reserved.missing.map((m) => `${m.sku} (${m.available} of ${m.wanted})`).join(', ')}`,
        { topic: message.topic, ...(message.messageId !== undefined && { messageId: message.messageId }) },
      );
    }
    stock = new Map(reserved.stock);
    for (const reservation of reserved.reservations) {
      invocation.producer.sendAsync(
        {
          topic: topics.shipments,
          tag: 'ShipmentRequested',
          keys: [`ORDERID_${order.orderId}`, `SKU_${reservation.sku}`],
          body: { orderId: order.orderId, customerId: order.customerId, ...reservation },
        },
        {
          onSuccess: () => undefined,
          onException: ({ exception }) =>
            invocation.logger.error({
              message: 'shipment not sent',
              orderId: order.orderId,
              error: exception,
            }),
        },
        { deadline: invocation.deadline },
      );
    }
    invocation.logger.info({
      message: 'order fulfilled',
      orderId: order.orderId,
      shipments: reserved.reservations.length,
      attempt: message.userProperties['consume.attempt'] ?? '0',
    });
    return reserved.reservations.length;
  };
}

export function processOptions(invocation: Invocation) {
  return {
    deadline: invocation.deadline,
    failurePolicy: 'retry-topic' as const,
    retryTopic: topics.ordersRetry,
    deadLetterTopic: topics.ordersDeadLetter,
    maxAttempts: MAX_ATTEMPTS,
    producer: invocation.producer,
    logger: invocation.logger,
  };
}

export function toResult(report: Pick<ProcessReport<unknown>, keyof FulfilmentResult>): FulfilmentResult {
  const { processed, failed, retried, deadLettered } = report;
  return { processed, failed, retried, deadLettered };
}

/** Fulfils a batch of received orders (the FC trigger's messages). */
export async function fulfilOrders(
  messages: readonly ReceivedMessage[],
  invocation: Invocation,
): Promise<FulfilmentResult> {
  return toResult(await processMessages(messages, fulfilOrder(invocation), processOptions(invocation)));
}
