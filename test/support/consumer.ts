import { randomUUID } from 'node:crypto';
import { type MessageView, SimpleConsumer } from 'rocketmq-client-nodejs';
import { silentLogger } from './silent-logger.js';

/**
 * Reads messages back the way a downstream service would: a SimpleConsumer of a fresh group, receiving
 * and acking until `done` holds for what arrived so far, or the time is up.
 */
export async function readBack(
  endpoint: string,
  topic: string,
  done: (received: MessageView[]) => boolean,
  timeoutMs = 10_000,
): Promise<MessageView[]> {
  const consumer = new SimpleConsumer({
    endpoints: endpoint,
    namespace: '',
    consumerGroup: `readback-${randomUUID().slice(0, 8)}`,
    subscriptions: new Map([[topic, '*']]),
    awaitDuration: 500,
    logger: silentLogger,
  });
  await consumer.startup();
  const received: MessageView[] = [];
  const deadline = Date.now() + timeoutMs;
  try {
    while (!done(received) && Date.now() < deadline) {
      for (const message of await consumer.receive(32, 15_000)) {
        received.push(message);
        await consumer.ack(message);
      }
    }
  } finally {
    await consumer.shutdown();
  }
  return received;
}
