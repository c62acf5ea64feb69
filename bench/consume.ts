/**
 * The consume side: messages per second the pull consumer processes from the embedded broker (in its
 * own process), and what the batch processor and the trigger parser cost per message in memory.
 *
 *   npx tsx bench/consume.ts [--quick]
 *
 * Prints a table and writes bench/results/consume.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  pollMessages,
  processMessages,
  ReceivedMessage,
  shutdownSharedConsumer,
} from '../lib/consumer/index.js';
import { createLogger } from '../lib/entries/advanced.js';
import { createProducer } from '../lib/index.js';
import { fromRocketMQEvent } from '../lib/triggers/index.js';
import { startBrokerProcess } from './broker-process.js';
import { spread } from './stats.js';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 2 : 5;
const PULL_MESSAGES = quick ? 500 : 2000;
const IN_MEMORY = quick ? 5000 : 20_000;
const TOPIC = 'orders';
const GROUP = 'bench-consume';
const BODY = 'x'.repeat(256);
// Outcome lines would dominate what is measured; the processor logs one summary per batch at INFO.
const logger = createLogger('bench-consume');
logger.setLogLevel('ERROR');

interface PullRound {
  messages: number;
  seconds: number;
  messagesPerSec: number;
  rounds: number;
}

async function pullRound(endpoint: string, batchSize: number, concurrency: number): Promise<PullRound> {
  const producer = createProducer({ endpoints: endpoint });
  // In slices: thousands of sync sends at once would wait past their timeout in the send window.
  for (let sent = 0; sent < PULL_MESSAGES; sent += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, PULL_MESSAGES - sent) }, (_, i) =>
        producer.send({ topic: TOPIC, keys: [`K${sent + i}`], body: BODY }),
      ),
    );
  }
  await producer.shutdown();
  const start = process.hrtime.bigint();
  let received = 0;
  let rounds = 0;
  while (received < PULL_MESSAGES) {
    const report = await pollMessages({
      topic: TOPIC,
      consumerGroup: GROUP,
      client: { endpoints: endpoint },
      deadline: Date.now() + 60_000,
      maxMessages: PULL_MESSAGES - received,
      batchSize,
      concurrency,
      awaitDurationMs: 500,
      logger,
      handler: () => undefined,
    });
    received += report.acked;
    rounds += report.rounds;
    if (report.received === 0) break;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { messages: received, seconds, messagesPerSec: received / seconds, rounds };
}

function inMemoryMessages(count: number): ReceivedMessage[] {
  return Array.from(
    { length: count },
    (_, i) =>
      new ReceivedMessage({
        source: 'pull',
        topic: TOPIC,
        messageId: `id-${i}`,
        tag: 'OrderCreated',
        keys: [`K${i}`],
        body: Buffer.from(BODY),
        userProperties: Object.create(null),
        systemProperties: Object.create(null),
        messageGroup: undefined,
        deliveryAttempt: 1,
        bornTime: undefined,
        publishTime: undefined,
        traceparent: i % 2 === 0 ? '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' : undefined,
      }),
  );
}

/** ns per message of processMessages over a no-op handler, minus a plain loop awaiting the same handler. */
async function processorOverhead(
  concurrency: number,
): Promise<{ processorNs: number; loopNs: number; overheadNs: number }> {
  const messages = inMemoryMessages(IN_MEMORY);
  const handler = async () => undefined;
  let start = process.hrtime.bigint();
  for (const _message of messages) await handler();
  const loopNs = Number(process.hrtime.bigint() - start) / IN_MEMORY;
  start = process.hrtime.bigint();
  await processMessages(messages, handler, { deadline: Date.now() + 600_000, concurrency, logger });
  const processorNs = Number(process.hrtime.bigint() - start) / IN_MEMORY;
  return { processorNs, loopNs, overheadNs: processorNs - loopNs };
}

function parserCost(): { nsPerMessage: number } {
  const sample = {
    id: '7c1e5f0a-3b2d-4e8f-9a61-52d1c0e8b000',
    source: 'bench',
    specversion: '1.0',
    type: 'mq:Topic:SendMessage',
    subject: 'acs:mq:cn-hangzhou:1234567890123456:MQ_INST_X%orders',
    time: '2026-11-24T08:00:00.120Z',
    aliyunpublishtime: '2026-11-24T08:00:00.310Z',
    data: {
      topic: TOPIC,
      systemProperties: { TAGS: 'OrderCreated', KEYS: 'K1', UNIQ_KEY: 'ID', CONSUME_START_TIME: 1 },
      userProperties: { 'content-type': 'application/json' },
      body: BODY,
    },
  };
  const batch = Buffer.from(JSON.stringify(Array.from({ length: 1000 }, () => sample)));
  const start = process.hrtime.bigint();
  const runs = quick ? 5 : 20;
  for (let i = 0; i < runs; i++) fromRocketMQEvent(batch);
  return { nsPerMessage: Number(process.hrtime.bigint() - start) / (runs * 1000) };
}

async function main(): Promise<void> {
  const broker = await startBrokerProcess();
  const scenarios = [
    { name: 'batch 32, sequential', batchSize: 32, concurrency: 1 },
    { name: 'batch 32, concurrency 16', batchSize: 32, concurrency: 16 },
  ];
  const pull: Record<string, PullRound[]> = {};
  const overhead: Record<string, Array<{ processorNs: number; loopNs: number; overheadNs: number }>> = {};
  const parser: Array<{ nsPerMessage: number }> = [];
  try {
    // Joins the group and warms the client up; not measured.
    await pollMessages({
      topic: TOPIC,
      consumerGroup: GROUP,
      client: { endpoints: broker.endpoint },
      deadline: Date.now() + 30_000,
      awaitDurationMs: 500,
      logger,
      handler: () => undefined,
    });
    // The in-memory figures are measured warm: one unrecorded pass first.
    await processorOverhead(1);
    parserCost();
    for (let round = 0; round < ROUNDS; round++) {
      for (const scenario of scenarios) {
        const rounds = pull[scenario.name] ?? [];
        rounds.push(await pullRound(broker.endpoint, scenario.batchSize, scenario.concurrency));
        pull[scenario.name] = rounds;
      }
      for (const concurrency of [1, 16]) {
        const rounds = overhead[`concurrency ${concurrency}`] ?? [];
        rounds.push(await processorOverhead(concurrency));
        overhead[`concurrency ${concurrency}`] = rounds;
      }
      parser.push(parserCost());
    }
  } finally {
    await shutdownSharedConsumer();
    await broker.stop();
  }
  const result = {
    meta: {
      date: new Date().toISOString(),
      node: process.version,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      cpuCount: cpus().length,
      rounds: ROUNDS,
      quick,
      note: 'shared machine; broker in its own process',
    },
    pull: Object.fromEntries(
      Object.entries(pull).map(([name, rounds]) => [
        name,
        { messagesPerSec: spread(rounds.map((r) => r.messagesPerSec)), messages: PULL_MESSAGES, rounds },
      ]),
    ),
    processor: Object.fromEntries(
      Object.entries(overhead).map(([name, rounds]) => [
        name,
        {
          overheadNsPerMessage: spread(rounds.map((r) => r.overheadNs)),
          processorNsPerMessage: spread(rounds.map((r) => r.processorNs)),
          plainLoopNsPerMessage: spread(rounds.map((r) => r.loopNs)),
        },
      ]),
    ),
    parser: { nsPerMessage: spread(parser.map((p) => p.nsPerMessage)) },
  };
  const fmt = (s: { median: number; min: number; max: number }, digits = 0) =>
    `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
  const lines = [
    `Consume side, ${ROUNDS} rounds, median (min–max); ${result.meta.cpuCount} × ${result.meta.cpuModel}, ${process.version}`,
    '',
    `| Pull consumer (${PULL_MESSAGES} messages of 256 B) | messages/s |`,
    '| --- | ---: |',
    ...Object.entries(result.pull).map(([name, r]) => `| ${name} | ${fmt(r.messagesPerSec)} |`),
    '',
    `| processMessages, no-op handler (${IN_MEMORY} messages) | overhead ns/message | total ns/message |`,
    '| --- | ---: | ---: |',
    ...Object.entries(result.processor).map(
      ([name, r]) => `| ${name} | ${fmt(r.overheadNsPerMessage)} | ${fmt(r.processorNsPerMessage)} |`,
    ),
    '',
    `| fromRocketMQEvent, 1000-message CloudEvents batch (Buffer) | ${fmt(result.parser.nsPerMessage)} ns/message |`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const out = fileURLToPath(new URL('./results/consume.json', import.meta.url));
  await mkdir(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`\nwrote ${out}\n`);
}

await main();
