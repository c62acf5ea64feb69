/**
 * Child process of lean.test.ts: sends one message with the lean transport and returns without
 * shutting the producer down. The process must then exit on its own.
 */
import { createProducer } from '../../lib/index.js';

const producer = createProducer({ transport: 'lean', logger: undefined });
const result = await producer.send({ topic: 'orders', body: 'leave' });
process.stdout.write(`sent ${result.messageId}\n`);
