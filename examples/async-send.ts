// Async: sendAsync returns at once; exactly one callback per message. Drain before the process freezes.
import { createProducer } from '../lib/index.js';

const producer = createProducer({ spool: true }); // failed sends are persisted for later delivery

for (const key of ['photos/a.jpg', 'photos/b.jpg', 'photos/c.jpg']) {
  producer.sendAsync(
    { topic: 'object-events', tag: 'ObjectCreated', keys: [key.replaceAll('/', '_')], body: { key } },
    {
      onSuccess: (result) => console.log(`sent ${result.messageId} for ${key}`),
      onException: ({ topic, exception, spooled }) =>
        console.error(`send to ${topic} failed: ${exception.code}${spooled ? ' (spooled)' : ''}`),
    },
  );
}

const { expiredAsync } = await producer.drain({ timeoutMs: 3000 });
console.log(`drained, ${expiredAsync} timed out`);
await producer.shutdown();
