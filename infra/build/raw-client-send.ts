import { Producer } from 'rocketmq-client-nodejs';

/**
 * The smallest useful program on the official client: start a producer, send one message, shut down. Its
 * bundle is the yardstick `npm run build` compares the function bundles with; it is never deployed. Like
 * any client on FC or Lambda it passes a logger (the default one writes files under a read-only home).
 */
export async function sendOnce(endpoints: string, topic: string): Promise<string> {
  const producer = new Producer({ endpoints, namespace: '', maxAttempts: 1, logger: console });
  await producer.startup();
  try {
    const receipt = await producer.send({ topic, body: Buffer.from('hello') });
    return receipt.messageId;
  } finally {
    await producer.shutdown();
  }
}
