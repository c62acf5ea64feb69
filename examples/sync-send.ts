// Sync: wait for the broker to store the message; handle failure yourself (retry or persist).
import { createProducer, isRocketMQError } from '../lib/index.js';

const producer = createProducer(); // endpoints from ROCKETMQ_ENDPOINTS, credentials from ALIBABA_CLOUD_*

for (let i = 0; i < 3; i++) {
  try {
    const result = await producer.send({
      topic: 'orders',
      tag: 'OrderCreated',
      keys: [`ORDERID_${i}`],
      body: { orderId: i, total: 10 * i },
    });
    console.log(`sent ${result.messageId} to ${result.topic}`);
  } catch (error) {
    if (isRocketMQError(error)) console.error(`send failed: ${error.code} (retryable: ${error.retryable})`);
    process.exitCode = 1;
  }
}

await producer.shutdown(); // frees the client; the script then exits on its own
