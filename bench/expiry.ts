/**
 * What a drain pays per open send it has to expire: N async sends wait on a black-holed embedded broker,
 * with a file spool, and `shutdown()` expires them. For each round it reads, from the moment the drain
 * began expiring: when the first callback ran (every record is durable by then: a drain writes them all
 * before it tells anyone), when the last one ran, and the CPU time the process spent from the start of
 * the shutdown to its end.
 *
 *   npx tsx bench/expiry.ts [--quick] [--json FILE]
 *
 * Prints a table and writes bench/results/expiry.json (or FILE). What the figures hide: the sends are
 * expired when the broker looks stalled, an eighth of the way into the shutdown's bound, so "to durable"
 * counts from the first expiry, not from the call; one process runs broker and producer, and the CPU time
 * includes the broker's share of it (small: it is black-holed); the disk's fsync cost is in "to durable".
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalBroker } from '../infra/local-broker/index.js';
import { createProducer } from '../lib/index.js';
import { spread } from './stats.js';
import { fmt } from './table.js';

process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
const quick = process.argv.includes('--quick');
const jsonArg = process.argv.indexOf('--json');
const RESULTS = fileURLToPath(new URL('./results/expiry.json', import.meta.url));
const output = jsonArg > 0 ? (process.argv[jsonArg + 1] as string) : RESULTS;
const ROUNDS = quick ? 3 : 7;
const COUNTS = [1000, 5000];

interface Round {
  expired: number;
  spooled: number;
  toDurableMs: number;
  toLastCallbackMs: number;
  shutdownMs: number;
  cpuMs: number;
}

/** `median (min–max)` of one figure across rounds. */
const spreadText = (values: number[], digits = 0) => fmt(spread(values), digits);

const broker = await startLocalBroker({ port: 0 });

async function round(count: number): Promise<Round> {
  const dir = await mkdtemp(join(tmpdir(), 'expiry-bench-'));
  const producer = createProducer({ endpoints: broker.endpoint, spool: { dir } });
  try {
    await producer.send({ topic: 'orders', body: 'warm-up' });
    broker.faults.blackhole(true);
    const callbacks: number[] = [];
    let spooled = 0;
    for (let i = 0; i < count; i++) {
      producer.sendAsync(
        { topic: 'orders', keys: [`k-${i}`], body: `k-${i}` },
        {
          onSuccess: () => undefined,
          onException: (failure) => {
            callbacks.push(performance.now());
            if (failure.spooled) spooled++;
          },
        },
      );
    }
    const cpu = process.cpuUsage();
    const started = performance.now();
    const drained = await producer.shutdown({ timeoutMs: 3000 });
    const shutdownMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    // The sends waiting for a slot expire together at the stall; those on the wire at the bound. The
    // first group is the figure: most of the sends, expired in one pass.
    const first = callbacks[0] as number;
    const burst = callbacks.filter((at) => at - first < 1000);
    return {
      expired: drained.expiredAsync,
      spooled,
      toDurableMs: first - started,
      toLastCallbackMs: (burst.at(-1) as number) - first,
      shutdownMs,
      cpuMs: (used.user + used.system) / 1000,
    };
  } finally {
    broker.faults.blackhole(false);
    await rm(dir, { recursive: true, force: true });
  }
}

const rows: Record<string, unknown>[] = [];
for (const count of COUNTS) {
  const rounds: Round[] = [];
  for (let r = 0; r < ROUNDS; r++) rounds.push(await round(count));
  rows.push({
    sends: count,
    'spooled / expired': `${Math.min(...rounds.map((r) => r.spooled))} / ${rounds[0]?.expired}`,
    'first callback after shutdown began, ms': spreadText(rounds.map((r) => r.toDurableMs)),
    'first → last callback of the stall burst, ms': spreadText(
      rounds.map((r) => r.toLastCallbackMs),
      1,
    ),
    'shutdown CPU, µs per send': spreadText(rounds.map((r) => (r.cpuMs * 1000) / count)),
    'shutdown wall, ms': spreadText(rounds.map((r) => r.shutdownMs)),
  });
}
await broker.stop();

const columns = Object.keys(rows[0] ?? {});
process.stdout.write(
  `\nA drain expiring open async sends to a silent broker, file spool, ${ROUNDS} rounds: median (min–max)\n`,
);
process.stdout.write(`| ${columns.join(' | ')} |\n|${columns.map(() => ' --- ').join('|')}|\n`);
for (const row of rows) process.stdout.write(`| ${columns.map((c) => String(row[c])).join(' | ')} |\n`);
await mkdir(dirname(output), { recursive: true });
await writeFile(
  output,
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, cpus: cpus().length, rounds: ROUNDS, rows }, null, 2)}\n`,
);
process.exit(0);
