// Oneway: fire and forget for logs and metrics; no result, failures only counted.
import { createProducer } from '../lib/index.js';

const producer = createProducer();

for (let i = 0; i < 100; i++) {
  producer.sendOneway({ topic: 'metrics', tag: 'cpu', body: `cpu.load value=${(i % 10) / 10}` });
}

await producer.shutdown(); // drains what is still in flight
const { oneway } = producer.stats();
console.log(`oneway sent=${oneway.sent} failed=${oneway.failed} dropped=${oneway.dropped}`);
