/**
 * 3. Oneway sends on each transport of our producer (the raw client has no oneway send): how long
 * `sendOneway` takes to return (per call, µs), how long each message took to be acknowledged, and how
 * many delivered messages per second reached the broker, with default settings. The rounds alternate
 * the transport that goes first. Delivery is confirmed three ways: the producer's `stats().oneway`, the
 * broker's stored counter, and at the end a SimpleConsumer that reads a marked sample of each
 * transport back. (Packing several records into one message is measured by bench/packing.ts.)
 *
 * "delivered msg/s" counts only the messages the broker acknowledged, over the time from the first call
 * to the last acknowledgement: a burst that loses its tail does not get the drain's waiting time
 * counted against the messages that made it, nor the lost ones counted as delivered. Acknowledgements
 * are read from the `send:success` diagnostics channel, subscribed only while oneway rounds run.
 */
import { randomUUID } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { type MessageView, SimpleConsumer } from 'rocketmq-client-nodejs';
import { CHANNEL_NAMES, type SendSuccessEvent } from '../lib/diagnostics.js';
import { createProducer, type Producer } from '../lib/index.js';
import { SPOT_TOPIC } from './broker-process.js';
import { type BenchContext, BODY, ONEWAY_TOPIC, silentClientLogger } from './context.js';
import { rotation, TRANSPORTS, type TransportSide } from './sides.js';
import { latencySummary, roundSpread, type Spread, spreadOf } from './stats.js';

const SPOT_MESSAGES = 100;

interface OnewayRound {
  returnP50Us: number;
  returnP99Us: number;
  /** Call → acknowledgement, acknowledged messages only. */
  ackP50Ms: number;
  ackP99Ms: number;
  deliveredPerSec: number;
  sent: number;
  failed: number;
  dropped: number;
  stored: number;
  /** Stored by the broker after drain had returned (sends drain gave up on that still landed). */
  storedAfterDrain: number;
  sendMessageCalls: number;
  clientResets: number;
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

export interface OnewaySummary {
  returnP50Us: Spread;
  returnP99Us: Spread;
  ackP50Ms: Spread;
  ackP99Ms: Spread;
  deliveredPerSec: Spread;
  /** Totals over the measured rounds: producer stats and broker counters. */
  calls: number;
  sent: number;
  failed: number;
  dropped: number;
  storedByBroker: number;
  storedAfterDrain: number;
  /** Calls the broker never stored: calls − stored. */
  lost: number;
  sendMessageCalls: number;
  clientResets: number;
}

export interface SpotCheck {
  sent: number;
  readBack: number;
  distinctKeys: number;
  distinctMessageIds: number;
}

export interface OnewayResult {
  callsPerRound: number;
  official: OnewaySummary;
  lean: OnewaySummary;
  spotCheck: Record<TransportSide, SpotCheck> | undefined;
}

/** Acknowledged oneway sends while subscribed: their latencies and the time of the last one. */
class AckRecorder {
  latencies: number[] = [];
  lastAckNs = 0n;
  readonly #listener = (event: unknown) => {
    const success = event as SendSuccessEvent;
    if (success.mode !== 'oneway') return;
    this.latencies.push(success.durationMs);
    this.lastAckNs = process.hrtime.bigint();
  };

  start(): void {
    this.latencies = [];
    this.lastAckNs = 0n;
    subscribe(CHANNEL_NAMES.success, this.#listener);
  }

  stop(): void {
    unsubscribe(CHANNEL_NAMES.success, this.#listener);
  }
}

async function oneRound(context: BenchContext, producer: Producer, calls: number): Promise<OnewayRound> {
  const latencies = new Float64Array(calls);
  const before = producer.stats();
  const broker = (await context.broker.snapshot()).stats;
  const message = { topic: ONEWAY_TOPIC, body: BODY };
  const acks = new AckRecorder();
  acks.start();
  const started = process.hrtime.bigint();
  try {
    for (let i = 0; i < calls; i++) {
      const t = process.hrtime.bigint();
      producer.sendOneway(message);
      latencies[i] = Number(process.hrtime.bigint() - t) / 1000;
    }
    await producer.drain({ timeoutMs: 120_000 });
  } finally {
    acks.stop();
  }
  const after = producer.stats();
  const brokerAfter = (await context.broker.snapshot()).stats;
  const { p50, p99 } = latencySummary(latencies);
  const ack = latencySummary(acks.latencies);
  const sent = after.oneway.sent - before.oneway.sent;
  const failed = after.oneway.failed - before.oneway.failed;
  const dropped = after.oneway.dropped - before.oneway.dropped;
  const settled = await settle(context, failed + dropped > 0);
  const deliveringSeconds = acks.lastAckNs > started ? Number(acks.lastAckNs - started) / 1e9 : Number.NaN;
  return {
    returnP50Us: p50,
    returnP99Us: p99,
    ackP50Ms: ack.p50,
    ackP99Ms: ack.p99,
    deliveredPerSec: acks.latencies.length / deliveringSeconds,
    sent,
    failed,
    dropped,
    stored: settled - broker.storedMessages,
    storedAfterDrain: settled - brokerAfter.storedMessages,
    sendMessageCalls: brokerAfter.sendMessageCalls - broker.sendMessageCalls,
    clientResets: after.clientResets - before.clientResets,
  };
}

function summarize(rounds: readonly OnewayRound[], calls: number): OnewaySummary {
  const total = (pick: (r: OnewayRound) => number) => rounds.reduce((sum, r) => sum + pick(r), 0);
  const spread = (pick: (r: OnewayRound) => number, digits: number) =>
    roundSpread(spreadOf(rounds, pick), digits);
  return {
    returnP50Us: spread((r) => r.returnP50Us, 2),
    returnP99Us: spread((r) => r.returnP99Us, 2),
    ackP50Ms: spread((r) => r.ackP50Ms, 2),
    ackP99Ms: spread((r) => r.ackP99Ms, 2),
    deliveredPerSec: spread((r) => r.deliveredPerSec, 0),
    calls: calls * rounds.length,
    sent: total((r) => r.sent),
    failed: total((r) => r.failed),
    dropped: total((r) => r.dropped),
    storedByBroker: total((r) => r.stored),
    storedAfterDrain: total((r) => r.storedAfterDrain),
    lost: calls * rounds.length - total((r) => r.stored),
    sendMessageCalls: total((r) => r.sendMessageCalls),
    clientResets: total((r) => r.clientResets),
  };
}

/** Sends a marked sample on each transport, then reads the spot topic back with a fresh consumer group. */
async function spotCheck(context: BenchContext, producers: Record<TransportSide, Producer>) {
  const run = randomUUID().slice(0, 8);
  for (const side of TRANSPORTS) {
    for (let i = 0; i < SPOT_MESSAGES; i++)
      producers[side].sendOneway({ topic: SPOT_TOPIC, keys: [`${run}-${side}-${i}`], body: `${side} ${i}` });
    await producers[side].drain({ timeoutMs: 10_000 });
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
    while (received.length < SPOT_MESSAGES * TRANSPORTS.length && Date.now() < deadline) {
      for (const view of await consumer.receive(32, 15_000)) {
        received.push(view);
        await consumer.ack(view);
      }
    }
  } finally {
    await consumer.shutdown();
  }
  const result = {} as Record<TransportSide, SpotCheck>;
  for (const side of TRANSPORTS) {
    const mine = received.filter((view) => view.keys.some((key) => key.startsWith(`${run}-${side}-`)));
    result[side] = {
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
  const producers: Record<TransportSide, Producer> = {
    official: createProducer({ endpoints: context.endpoint, transport: 'official' }),
    lean: createProducer({ endpoints: context.endpoint, transport: 'lean' }),
  };
  try {
    // Starts each client and warms the code paths before the measured rounds.
    for (const side of TRANSPORTS) await oneRound(context, producers[side], Math.min(calls, 2000));
    const rounds: Record<TransportSide, OnewayRound[]> = { official: [], lean: [] };
    for (let r = 0; r < context.rounds; r++) {
      context.progress(`oneway round ${r + 1}/${context.rounds}`);
      for (const side of rotation(TRANSPORTS, r))
        rounds[side].push(await oneRound(context, producers[side], calls));
    }
    return {
      callsPerRound: calls,
      official: summarize(rounds.official, calls),
      lean: summarize(rounds.lean, calls),
      spotCheck: await spotCheck(context, producers),
    };
  } finally {
    await Promise.all(TRANSPORTS.map((side) => producers[side].shutdown()));
  }
}
