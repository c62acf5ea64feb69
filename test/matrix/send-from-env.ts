/**
 * Child process of transport-in-use.test.ts: one send on a producer configured from the environment
 * alone (ROCKETMQ_ENDPOINTS, ROCKETMQ_TRANSPORT), as the function and fault tests' children are.
 */

import { resolveConfig } from '../../lib/entries/advanced.js';
import { createProducer } from '../../lib/index.js';

const producer = createProducer();
const result = await producer.send({ topic: 'orders', keys: ['matrix-child'], body: 'child' });
await producer.shutdown();
process.stdout.write(
  `${JSON.stringify({ transport: resolveConfig({}).transport, attempts: result.attempts })}\n`,
);
