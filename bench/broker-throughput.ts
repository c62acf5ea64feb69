/**
 * Throughput of the official client against the embedded broker, and the broker's memory with a full
 * topic. Prints a table and writes bench/results/broker-throughput.json.
 *
 *   node --expose-gc --import tsx bench/broker-throughput.ts \
 *     [--sequential 2000] [--concurrent 10000] [--concurrency 64] [--stored 100000]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { Producer } from 'rocketmq-client-nodejs';
import { startLocalBroker } from '../infra/local-broker/index.js';

const { values } = parseArgs({
  options: {
    sequential: { type: 'string', default: '2000' },
    concurrent: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '64' },
    stored: { type: 'string', default: '100000' },
  },
});
const sequentialCount = Number(values.sequential);
const concurrentCount = Number(values.concurrent);
const concurrency = Number(values.concurrency);
const storedCount = Number(values.stored);
const body = Buffer.alloc(256, 'x');
const logger = { info() {}, warn() {}, error() {}, debug() {} };
const MiB = 1024 * 1024;

function memory() {
  globalThis.gc?.();
  const { rss, heapTotal, heapUsed, arrayBuffers } = process.memoryUsage();
  return {
    rssMiB: Math.round(rss / MiB),
    heapTotalMiB: Math.round(heapTotal / MiB),
    heapUsedMiB: Math.round(heapUsed / MiB),
    arrayBuffersMiB: Math.round(arrayBuffers / MiB),
  };
}

async function sendSequentially(producer: Producer, topic: string, count: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < count; i++) await producer.send({ topic, body });
  return count / ((performance.now() - started) / 1000);
}

async function sendConcurrently(producer: Producer, topic: string, count: number, workers: number) {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < count) {
        next++;
        await producer.send({ topic, body });
      }
    }),
  );
  return count / ((performance.now() - started) / 1000);
}

async function withProducer<T>(
  maxMessagesPerTopic: number,
  run: (producer: Producer) => Promise<T>,
): Promise<T> {
  const broker = await startLocalBroker({ maxMessagesPerTopic });
  const producer = new Producer({
    endpoints: broker.endpoint,
    namespace: '',
    logger,
    topics: ['metrics', 'orders'],
  });
  await producer.startup();
  try {
    return await run(producer);
  } finally {
    await producer.shutdown();
    await broker.stop();
  }
}

const idle = memory();
const { full, fillSeconds } = await withProducer(storedCount, async (producer) => {
  const started = performance.now();
  await sendConcurrently(producer, 'orders', storedCount, concurrency);
  return { fillSeconds: (performance.now() - started) / 1000, full: memory() };
});

const { sequential, concurrent } = await withProducer(100_000, async (producer) => {
  // The first sends pay for connection setup and JIT warm-up; measure after them.
  await sendSequentially(producer, 'metrics', 500);
  return {
    sequential: await sendSequentially(producer, 'metrics', sequentialCount),
    concurrent: await sendConcurrently(producer, 'metrics', concurrentCount, concurrency),
  };
});

const results = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: `${availableParallelism()} x ${cpus()[0]?.model ?? 'unknown'}`,
  bodyBytes: body.length,
  note: 'official rocketmq-client-nodejs Producer and the broker in one process; warm (after 500 sends)',
  sequential: { messages: sequentialCount, messagesPerSecond: Math.round(sequential) },
  concurrent: { messages: concurrentCount, concurrency, messagesPerSecond: Math.round(concurrent) },
  memory: {
    note: 'whole process (broker + one producer) after a forced GC when --expose-gc is given',
    exposedGc: typeof globalThis.gc === 'function',
    idle,
    withStoredMessages: { stored: storedCount, fillSeconds: Number(fillSeconds.toFixed(1)), ...full },
  },
};

console.table({
  [`sequential (${sequentialCount})`]: { 'msg/s': results.sequential.messagesPerSecond },
  [`concurrency ${concurrency} (${concurrentCount})`]: { 'msg/s': results.concurrent.messagesPerSecond },
});
console.table({
  idle: idle,
  [`${storedCount} stored x ${body.length} B`]: full,
});
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(
  new URL('./results/broker-throughput.json', import.meta.url),
  `${JSON.stringify(results, null, 2)}\n`,
);
