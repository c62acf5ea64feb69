/**
 * 3. Oneway sends: how long `sendOneway` takes to return (per call, µs), and how many messages per second
 * reach the broker once `drain` resolved, with default settings. (Packing several records into one
 * message is measured by bench/packing.ts.) Delivery is confirmed three ways: the producer's `stats().oneway`, the broker's stored
 * counter, and at the end a SimpleConsumer that reads a marked sample of each mode back.
 */
import { randomUUID } from 'node:crypto';
import { type MessageView, SimpleConsumer } from 'rocketmq-client-nodejs';
import { createProducer, type Producer } from '../lib/index.js';
import { SPOT_TOPIC } from './broker-process.js';
import { type BenchContext, BODY, ONEWAY_TOPIC, silentClientLogger } from './context.js';
import { latencySummary, roundSpread, type Spread, spreadOf } from './stats.js';

type Mode = 'default';
const MODES: readonly Mode[] = ['default'];
const SPOT_MESSAGES = 100;

interface OnewayRound {
  returnP50Us: number;
  returnP99Us: number;
  deliveredPerSec: number;
  sent: number;
  failed: number;
  dropped: number;
  stored: number;
  /** Stored by the broker after drain had returned (sends drain gave up on that still landed). */
  storedAfterDrain: number;
  sendMessageCalls: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until the broker's stored count stops moving. A round whose drain gave up (drain waits at most
 * `sendTimeoutMs`) can leave calls running in the client; they must not land in the next round's counts
 * or hold its in-flight slots, so such a round first waits out one more send timeout.
 */
async function settle(context: BenchContext, hadLosses: boolean): Promise<number> {
  if (hadLosses) await sleep(3500);
  let last = (await context.broker.snapshot()).stats.storedMessages;
  for (let stableFor = 0, waited = 0; stableFor < 300 && waited < 10_000; waited += 100) {
    await sleep(100);
    const now = (await context.broker.snapshot()).stats.storedMessages;
    stableFor = now === last ? stableFor + 100 : 0;
    last = now;
  }
  return last;
}

export interface OnewayModeSummary {
  returnP50Us: Spread;
  returnP99Us: Spread;
  deliveredPerSec: Spread;
  /** Totals over the measured rounds: producer stats and broker counters. */
  calls: number;
  sent: number;
  failed: number;
  dropped: number;
  storedByBroker: number;
  storedAfterDrain: number;
  sendMessageCalls: number;
}

export interface SpotCheck {
  sent: number;
  readBack: number;
  distinctKeys: number;
  distinctMessageIds: number;
}

export interface OnewayResult {
  callsPerRound: number;
  default: OnewayModeSummary;
  spotCheck: Record<Mode, SpotCheck> | undefined;
}

async function oneRound(context: BenchContext, producer: Producer, calls: number): Promise<OnewayRound> {
  const latencies = new Float64Array(calls);
  const before = producer.stats().oneway;
  const broker = (await context.broker.snapshot()).stats;
  const message = { topic: ONEWAY_TOPIC, body: BODY };
  const started = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) {
    const t = process.hrtime.bigint();
    producer.sendOneway(message);
    latencies[i] = Number(process.hrtime.bigint() - t) / 1000;
  }
  await producer.drain({ timeoutMs: 120_000 });
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const after = producer.stats().oneway;
  const brokerAfter = (await context.broker.snapshot()).stats;
  const { p50, p99 } = latencySummary(latencies);
  const sent = after.sent - before.sent;
  const failed = after.failed - before.failed;
  const dropped = after.dropped - before.dropped;
  const settled = await settle(context, failed + dropped > 0);
  return {
    returnP50Us: p50,
    returnP99Us: p99,
    deliveredPerSec: sent / wallSeconds,
    sent,
    failed,
    dropped,
    stored: settled - broker.storedMessages,
    storedAfterDrain: settled - brokerAfter.storedMessages,
    sendMessageCalls: brokerAfter.sendMessageCalls - broker.sendMessageCalls,
  };
}

function summarize(rounds: readonly OnewayRound[], calls: number): OnewayModeSummary {
  const total = (pick: (r: OnewayRound) => number) => rounds.reduce((sum, r) => sum + pick(r), 0);
  return {
    returnP50Us: roundSpread(
      spreadOf(rounds, (r) => r.returnP50Us),
      2,
    ),
    returnP99Us: roundSpread(
      spreadOf(rounds, (r) => r.returnP99Us),
      2,
    ),
    deliveredPerSec: roundSpread(
      spreadOf(rounds, (r) => r.deliveredPerSec),
      0,
    ),
    calls: calls * rounds.length,
    sent: total((r) => r.sent),
    failed: total((r) => r.failed),
    dropped: total((r) => r.dropped),
    storedByBroker: total((r) => r.stored),
    storedAfterDrain: total((r) => r.storedAfterDrain),
    sendMessageCalls: total((r) => r.sendMessageCalls),
  };
}

/** Sends a marked sample in each mode, then reads the spot topic back with a fresh consumer group. */
async function spotCheck(context: BenchContext, producers: Record<Mode, Producer>) {
  const run = randomUUID().slice(0, 8);
  for (const mode of MODES) {
    for (let i = 0; i < SPOT_MESSAGES; i++)
      producers[mode].sendOneway({ topic: SPOT_TOPIC, keys: [`${run}-${mode}-${i}`], body: `${mode} ${i}` });
    await producers[mode].drain({ timeoutMs: 10_000 });
  }
  const consumer = new SimpleConsumer({
    endpoints: context.endpoint,
    namespace: '',
    consumerGroup: `bench-spot-${run}`,
    subscriptions: new Map([[SPOT_TOPIC, '*']]),
    awaitDuration: 500,
    logger: silentClientLogger,
  });
  await consumer.startup();
  const received: MessageView[] = [];
  const deadline = Date.now() + 15_000;
  try {
    while (received.length < SPOT_MESSAGES * MODES.length && Date.now() < deadline) {
      for (const view of await consumer.receive(32, 15_000)) {
        received.push(view);
        await consumer.ack(view);
      }
    }
  } finally {
    await consumer.shutdown();
  }
  const result = {} as Record<Mode, SpotCheck>;
  for (const mode of MODES) {
    const mine = received.filter((view) => view.keys.some((key) => key.startsWith(`${run}-${mode}-`)));
    result[mode] = {
      sent: SPOT_MESSAGES,
      readBack: mine.length,
      distinctKeys: new Set(mine.flatMap((view) => view.keys)).size,
      distinctMessageIds: new Set(mine.map((view) => view.messageId)).size,
    };
  }
  return result;
}

export async function benchOneway(context: BenchContext): Promise<OnewayResult> {
  const calls = context.onewayN;
  const producers: Record<Mode, Producer> = {
    default: createProducer({ endpoints: context.endpoint }),
  };
  try {
    // Starts each client and warms the code paths before the measured rounds.
    for (const mode of MODES) await oneRound(context, producers[mode], Math.min(calls, 2000));
    const rounds: Record<Mode, OnewayRound[]> = { default: [] };
    for (let r = 0; r < context.rounds; r++) {
      context.progress(`oneway round ${r + 1}/${context.rounds}`);
      for (const mode of MODES) rounds[mode].push(await oneRound(context, producers[mode], calls));
    }
    return {
      callsPerRound: calls,
      default: summarize(rounds.default, calls),
      spotCheck: await spotCheck(context, producers),
    };
  } finally {
    await Promise.all(MODES.map((mode) => producers[mode].shutdown()));
  }
}
