import type { Invocation } from 'rocketmq-serverless';
import {
  type HttpRequest,
  type HttpResponse,
  jsonResponse,
  readJsonBody,
  requireMethod,
} from 'rocketmq-serverless/triggers';
import { topics } from '../topics.js';
import { parseOrder } from './order.js';

/**
 * POST an order → validated → **sync** send to the orders topic → 200 `{ messageId, topic }`. The caller
 * gets a confirmation only once the broker stored the message; a retryable broker failure becomes a 503
 * with `Retry-After`, so the client knows to try again.
 */
export async function confirmOrder(request: HttpRequest, invocation: Invocation): Promise<HttpResponse> {
  requireMethod(request, ['POST']);
  const order = parseOrder(readJsonBody(request));
  const result = await invocation.producer.send(
    {
      topic: topics.orders,
      tag: 'OrderCreated',
      keys: [`ORDERID_${order.orderId}`],
      body: order,
    },
    { deadline: invocation.deadline },
  );
  invocation.logger.info({ message: 'order confirmed', orderId: order.orderId, messageId: result.messageId });
  return jsonResponse(200, { messageId: result.messageId, topic: result.topic });
}
