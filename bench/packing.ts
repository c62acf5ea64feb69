/**
 * Packing: delivered records per second when a oneway stream packs its records (a `Packer` with its
 * defaults, 256 records per pack) against one oneway message per record, rounds interleaved. The
 * embedded broker runs in its own process; records count as delivered once the broker stored them
 * (its counter, after `drain` resolved and the count stopped moving).
 *
 *   npx tsx bench/packing.ts [--quick]
 *
 * Prints a table and writes bench/results/packing.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { PACKER_DEFAULTS } from '../lib/entries/advanced.js';
import { createProducer, Packer, type Producer } from '../lib/index.js';
import { type BrokerProcess, startBrokerProcess } from './broker-process.js';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 2 : 5;
/** Records per burst: four full packs. A burst is drained before the next, as an invocation would. */
const BURST = 4 * PACKER_DEFAULTS.maxRecords;
const BURSTS = quick ? 4 : 20;
const RECORDS = BURST * BURSTS;
const TOPIC = 'metrics';
/** A metrics-sized record: a JSON object of about 120 bytes. */
const record = (i: number) => ({
  name: `bench.series.${i % 50}`,
  value: i,
  unit: 'count',
  time: '2026-12-02T00:00:00.000Z',
  source: 'bench-packing',
});

type Mode = 'unpacked' | 'packed';

interface Round {
  mode: Mode;
  records: number;
  storedMessages: number;
  deliveredRecords: number;
  seconds: number;
  recordsPerSec: number;
  producerCpuMs: number;
  brokerCpuMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The broker's stored count once it stopped moving (late oneway sends must not spill into the next round). */
async function settled(broker: BrokerProcess): Promise<{ stored: number; cpuMs: number }> {
  let last = await broker.snapshot();
  for (let stableFor = 0, waited = 0; stableFor < 300 && waited < 10_000; waited += 100) {
    await sleep(100);
    const now = await broker.snapshot();
    stableFor = now.stats.storedMessages === last.stats.storedMessages ? stableFor + 100 : 0;
    last = now;
  }
  return { stored: last.stats.storedMessages, cpuMs: last.cpuMs };
}

async function oneRound(broker: BrokerProcess, producer: Producer, mode: Mode): Promise<Round> {
  const before = await settled(broker);
  const cpuBefore = process.cpuUsage();
  const start = process.hrtime.bigint();
  const packer = mode === 'packed' ? new Packer(producer) : undefined;
  for (let burst = 0; burst < BURSTS; burst++) {
    for (let i = 0; i < BURST; i++) {
      const body = record(burst * BURST + i);
      if (packer) {
        packer.add(TOPIC, { body, keys: [body.name] }, { tag: 'bench' });
      } else {
        producer.sendOneway({ topic: TOPIC, tag: 'bench', keys: [body.name], body });
      }
    }
    await producer.drain();
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  packer?.close();
  const after = await settled(broker);
  const storedMessages = after.stored - before.stored;
  // Every pack is full (bursts are whole multiples of a pack), so stored packs × records per pack is exact.
  const perMessage = mode === 'packed' ? PACKER_DEFAULTS.maxRecords : 1;
  const deliveredRecords = storedMessages * perMessage;
  return {
    mode,
    records: RECORDS,
    storedMessages,
    deliveredRecords,
    seconds,
    recordsPerSec: deliveredRecords / seconds,
    producerCpuMs: (cpu.user + cpu.system) / 1000,
    brokerCpuMs: after.cpuMs - before.cpuMs,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

async function main(): Promise<void> {
  const broker = await startBrokerProcess();
  const producer = createProducer({ endpoints: broker.endpoint });
  const rounds: Round[] = [];
  try {
    // Warm-up: connection, route and JIT, not measured.
    for (let i = 0; i < 200; i++) producer.sendOneway({ topic: TOPIC, tag: 'warm-up', body: record(i) });
    await producer.drain();
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of round % 2 === 0
        ? (['unpacked', 'packed'] as const)
        : (['packed', 'unpacked'] as const)) {
        process.stderr.write(`packing: round ${round + 1}/${ROUNDS}, ${mode}\n`);
        rounds.push(await oneRound(broker, producer, mode));
      }
    }
  } finally {
    await producer.shutdown();
    await broker.stop();
  }
  const summary = (mode: Mode) => {
    const mine = rounds.filter((round) => round.mode === mode);
    return {
      recordsPerSecMedian: Math.round(median(mine.map((round) => round.recordsPerSec))),
      recordsPerSecMin: Math.round(Math.min(...mine.map((round) => round.recordsPerSec))),
      recordsPerSecMax: Math.round(Math.max(...mine.map((round) => round.recordsPerSec))),
      messagesPerRound: median(mine.map((round) => round.storedMessages)),
      deliveredOfSent: `${mine.reduce((sum, round) => sum + round.deliveredRecords, 0)}/${mine.reduce((sum, round) => sum + round.records, 0)}`,
      producerCpuMsPerKRecords:
        Math.round((median(mine.map((round) => round.producerCpuMs)) / RECORDS) * 1000 * 10) / 10,
      brokerCpuMsPerKRecords:
        Math.round((median(mine.map((round) => round.brokerCpuMs)) / RECORDS) * 1000 * 10) / 10,
    };
  };
  const unpacked = summary('unpacked');
  const packed = summary('packed');
  const result = {
    date: new Date().toISOString(),
    machine: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}; shared with other work while it ran`,
    setup: `${ROUNDS} rounds per mode, interleaved; ${RECORDS} records per round in bursts of ${BURST}, each burst drained; embedded broker in its own process; ~130-byte JSON records`,
    unpacked,
    packed,
    packedVsUnpacked: Math.round((packed.recordsPerSecMedian / unpacked.recordsPerSecMedian) * 10) / 10,
    rounds,
  };
  const rows = [
    [
      'mode',
      'records/s (median)',
      'min–max',
      'messages stored/round',
      'delivered',
      'producer CPU ms/1k rec',
      'broker CPU ms/1k rec',
    ],
    ...(['unpacked', 'packed'] as const).map((mode) => {
      const s = mode === 'packed' ? packed : unpacked;
      return [
        mode === 'packed' ? `packed (${PACKER_DEFAULTS.maxRecords}/pack)` : 'one message per record',
        s.recordsPerSecMedian.toLocaleString('en-US'),
        `${s.recordsPerSecMin.toLocaleString('en-US')}–${s.recordsPerSecMax.toLocaleString('en-US')}`,
        String(s.messagesPerRound),
        s.deliveredOfSent,
        String(s.producerCpuMsPerKRecords),
        String(s.brokerCpuMsPerKRecords),
      ];
    }),
  ];
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  for (const row of rows)
    process.stdout.write(`${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ')}\n`);
  process.stdout.write(`packed / unpacked delivered records/s: ${result.packedVsUnpacked}×\n`);
  const out = fileURLToPath(new URL('./results/packing.json', import.meta.url));
  await mkdir(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`wrote ${out}\n`);
}

await main();
