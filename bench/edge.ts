/**
 * The edge of an invocation, measured: how far past its bound each path returns with a slow or silent
 * broker, how many of the messages it reported spooled were on disk when it returned (must be all), how
 * fast the spool makes records durable by group commit against one synced file per record, and how many
 * of a oneway burst a healthy broker receives.
 *
 *   npx tsx bench/edge.ts [--quick]
 *
 * Prints a table and writes bench/results/edge.json. What the figures hide: the overruns depend on how
 * busy the machine is (the rounds run while nothing else of ours runs, but the machine may be shared);
 * the spool figures depend on the disk (fsync cost) and are for 256-byte bodies.
 */
import { mkdir, mkdtemp, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fcContext, lambdaContext } from '../infra/emulate.js';
import { type LocalBroker, startLocalBroker } from '../infra/local-broker/index.js';
import { FileSpool } from '../lib/entries/spool.js';
import {
  createProducer,
  getProducer,
  type ProducerOptions,
  shutdownSharedProducer,
  validateMessage,
} from '../lib/index.js';
import { fcEventHandler } from '../lib/platforms/fc.js';
import { lambdaHandler } from '../lib/platforms/lambda.js';
import type { SpoolFileSystem } from '../lib/spool/file-spool.js';
import { startBrokerProcess } from './broker-process.js';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 2 : 5;
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
const spread = (values: number[]) =>
  `${Math.round(median(values))} (${Math.round(Math.min(...values))}–${Math.round(Math.max(...values))})`;

interface EdgeRound {
  elapsedMs: number;
  overrunMs: number;
  callbacks: number;
  reportedSpooled: number;
  spooledNotOnDisk: number;
  notSpooledFailures: number;
}

async function keysOnDisk(dir: string): Promise<Set<string>> {
  return new Set((await new FileSpool({ dir }).list()).flatMap((record) => record.message.keys));
}

interface Scenario {
  name: string;
  boundMs: number;
  count: number;
  spool: boolean;
  run(broker: LocalBroker, options: ProducerOptions, keys: string[], send: RoundSink): Promise<number>;
}

type RoundSink = (key: string) => void;

function scenarios(): Scenario[] {
  const list: Scenario[] = [];
  for (const spool of [false, true]) {
    const label = spool ? 'spool' : 'no spool';
    list.push({
      name: `drain({ timeoutMs: 300 }), 1,000 async, broker 2 s slow, ${label}`,
      boundMs: 300,
      count: 1000,
      spool,
      async run(broker, _options, keys, send) {
        broker.faults.delayMs = 2000;
        for (const key of keys) send(key);
        const started = performance.now();
        await getProducer().drain({ timeoutMs: 300 });
        return performance.now() - started;
      },
    });
    list.push({
      name: `shutdown({ timeoutMs: 200 }), 3,000 async, broker silent, ${label}`,
      boundMs: 200,
      count: 3000,
      spool,
      async run(broker, _options, keys, send) {
        broker.faults.blackhole(true);
        for (const key of keys) send(key);
        const started = performance.now();
        await shutdownSharedProducer({ timeoutMs: 200 });
        return performance.now() - started;
      },
    });
    list.push({
      name: `Lambda wrapper, 300 ms left, 1,000 async, broker 2 s slow, ${label}`,
      boundMs: 300,
      count: 1000,
      spool,
      async run(broker, options, keys, send) {
        const handler = lambdaHandler(
          async () => {
            for (const key of keys) send(key);
          },
          { producer: options, shutdownOnSigterm: false },
        );
        broker.faults.delayMs = 2000;
        const started = performance.now();
        await handler({}, lambdaContext('edge-bench', 0.3));
        return performance.now() - started;
      },
    });
    list.push({
      name: `FC event wrapper, 1 s timeout, 1,000 async, broker 2 s slow, ${label}`,
      boundMs: 1000,
      count: 1000,
      spool,
      async run(broker, options, keys, send) {
        const handler = fcEventHandler(
          async () => {
            for (const key of keys) send(key);
          },
          { producer: options },
        );
        broker.faults.delayMs = 2000;
        const started = performance.now();
        await handler(Buffer.from('{}'), fcContext('edge-bench', 1));
        return performance.now() - started;
      },
    });
  }
  return list;
}

async function measureEdges(): Promise<Record<string, unknown>[]> {
  const broker = await startLocalBroker();
  process.env.ROCKETMQ_ENDPOINTS = broker.endpoint;
  const rows: Record<string, unknown>[] = [];
  try {
    for (const scenario of scenarios()) {
      const rounds: EdgeRound[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const dir = scenario.spool ? await mkdtemp(join(tmpdir(), 'edge-bench-')) : undefined;
        const options: ProducerOptions = dir ? { spool: { dir } } : {};
        await getProducer(options).send({ topic: 'orders', body: 'warm-up' });
        const keys = Array.from({ length: scenario.count }, (_, i) => `edge-${round}-${i}`);
        const spooled: string[] = [];
        let callbacks = 0;
        let notSpooled = 0;
        const send: RoundSink = (key) =>
          getProducer().sendAsync(
            { topic: 'orders', keys: [key], body: key },
            {
              onSuccess: () => {
                callbacks++;
              },
              onException: (failure) => {
                callbacks++;
                if (failure.spooled) spooled.push(key);
                else notSpooled++;
              },
            },
          );
        const elapsedMs = await scenario.run(broker, options, keys, send);
        // Read right away: what was reported spooled must already be on disk.
        const onDisk = dir ? await keysOnDisk(dir) : new Set<string>();
        rounds.push({
          elapsedMs,
          overrunMs: elapsedMs - scenario.boundMs,
          callbacks,
          reportedSpooled: spooled.length,
          spooledNotOnDisk: spooled.filter((key) => !onDisk.has(key)).length,
          notSpooledFailures: notSpooled,
        });
        broker.faults.reset();
        await shutdownSharedProducer({ timeoutMs: 1000 });
        if (dir) await rm(dir, { recursive: true, force: true });
        await sleep(200);
      }
      rows.push({
        scenario: scenario.name,
        boundMs: scenario.boundMs,
        overrunMsMedian: Math.round(median(rounds.map((r) => r.overrunMs))),
        overrunMsMax: Math.round(Math.max(...rounds.map((r) => r.overrunMs))),
        overrun: spread(rounds.map((r) => r.overrunMs)),
        callbacksAtReturn: `${Math.min(...rounds.map((r) => r.callbacks))}/${scenario.count}`,
        spooledAtReturn: scenario.spool ? spread(rounds.map((r) => r.reportedSpooled)) : '–',
        spooledNotOnDisk: rounds.reduce((sum, r) => sum + r.spooledNotOnDisk, 0),
        notPersisted: scenario.spool ? spread(rounds.map((r) => r.notSpooledFailures)) : '–',
        rounds,
      });
    }
  } finally {
    delete process.env.ROCKETMQ_ENDPOINTS;
    await broker.stop();
  }
  return rows;
}

/** One file per record, each written, synced and renamed on its own: the spool's earlier format. */
async function perRecordBaseline(dir: string, lines: string[]): Promise<number> {
  await Promise.all(
    lines.map(async (line, i) => {
      const target = join(dir, `${i}.json`);
      const handle = await open(`${target}.partial`, 'w', 0o600);
      await handle.writeFile(line);
      await handle.datasync();
      await handle.close();
      await rename(`${target}.partial`, target);
    }),
  );
  return lines.length;
}

async function measureSpool(): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  const message = validateMessage({ topic: 'orders', keys: ['K'], body: Buffer.alloc(256, 7) });
  const failure = {
    code: 'TIMEOUT',
    message: 'async send to orders did not finish before its deadline',
  } as const;
  for (const count of quick ? [1000] : [1000, 10_000]) {
    const group: number[] = [];
    const baseline: number[] = [];
    let syncsPerFlushRound = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // Paired: the baseline and group commit back to back, in alternating order.
      const order = round % 2 === 0 ? ['group', 'baseline'] : ['baseline', 'group'];
      for (const which of order) {
        const dir = await mkdtemp(join(tmpdir(), 'spool-bench-'));
        if (which === 'group') {
          let syncs = 0;
          const fileSystem: Partial<SpoolFileSystem> = {
            open: (async (...args: Parameters<typeof open>) => {
              const handle = await open(...args);
              const datasync = handle.datasync.bind(handle);
              const sync = handle.sync.bind(handle);
              handle.datasync = () => {
                syncs++;
                return datasync();
              };
              handle.sync = () => {
                syncs++;
                return sync();
              };
              return handle;
            }) as typeof open,
          };
          const spool = new FileSpool({ dir, fileSystem });
          const started = performance.now();
          await Promise.all(Array.from({ length: count }, () => spool.append(message, failure)));
          group.push(performance.now() - started);
          syncsPerFlushRound = syncs;
        } else {
          await mkdir(dir, { recursive: true });
          const line = JSON.stringify({
            v: 1,
            message: { ...message, body: message.body.toString('base64') },
            error: failure,
          });
          const started = performance.now();
          await perRecordBaseline(
            dir,
            Array.from({ length: count }, () => line),
          );
          baseline.push(performance.now() - started);
        }
        await rm(dir, { recursive: true, force: true });
      }
    }
    rows.push({
      records: count,
      groupCommitMs: spread(group),
      groupCommitRecordsPerSec: Math.round(count / (median(group) / 1000)),
      groupCommitSyncsPerRecord: Math.round((syncsPerFlushRound / count) * 10_000) / 10_000,
      perRecordFsyncMs: spread(baseline),
      perRecordFsyncRecordsPerSec: Math.round(count / (median(baseline) / 1000)),
      perRecordSyncsPerRecord: 1,
      speedup: `${Math.round((median(baseline) / median(group)) * 10) / 10}×`,
    });
  }
  return rows;
}

async function measureOneway(): Promise<Record<string, unknown>[]> {
  const broker = await startBrokerProcess();
  const rows: Record<string, unknown>[] = [];
  try {
    const bursts: Array<{ burst: number; maxInFlight?: number }> = quick
      ? [{ burst: 2000 }, { burst: 10_000 }]
      : [{ burst: 2000 }, { burst: 10_000 }, { burst: 50_000 }, { burst: 50_000, maxInFlight: 50_000 }];
    for (const { burst, maxInFlight } of bursts) {
      const delivered: number[] = [];
      let dropped = 0;
      let failed = 0;
      for (let round = 0; round < (quick ? 1 : 3); round++) {
        const producer = createProducer({ endpoints: broker.endpoint, ...(maxInFlight && { maxInFlight }) });
        await producer.send({ topic: 'metrics', body: 'warm-up' });
        const before = (await broker.snapshot()).stats.storedMessages;
        for (let i = 0; i < burst; i++)
          producer.sendOneway({ topic: 'metrics', keys: [`b-${i}`], body: 'x'.repeat(64) });
        await producer.drain({ timeoutMs: 120_000 });
        await sleep(300);
        const stored = (await broker.snapshot()).stats.storedMessages - before;
        delivered.push((stored / burst) * 100);
        dropped += producer.stats().oneway.dropped;
        failed += producer.stats().oneway.failed;
        await producer.shutdown({ timeoutMs: 2000 });
      }
      rows.push({
        burst,
        maxInFlight: maxInFlight ?? 10_000,
        deliveredPct: `${median(delivered).toFixed(2)} (${Math.min(...delivered).toFixed(2)}–${Math.max(...delivered).toFixed(2)})`,
        droppedTotal: dropped,
        failedTotal: failed,
        note:
          burst > (maxInFlight ?? 10_000)
            ? 'past maxInFlight: the excess is dropped at the call and counted'
            : '',
      });
    }
  } finally {
    await broker.stop();
  }
  return rows;
}

function printTable(title: string, rows: Record<string, unknown>[], columns: string[]): void {
  process.stdout.write(`\n${title}\n| ${columns.join(' | ')} |\n|${columns.map(() => ' --- ').join('|')}|\n`);
  for (const row of rows)
    process.stdout.write(`| ${columns.map((column) => String(row[column] ?? '')).join(' | ')} |\n`);
}

/** `--only edges|spool|oneway` runs one section (the JSON then holds only that one). */
const only = process.argv[process.argv.indexOf('--only') + 1];
const runs = (section: string) => !process.argv.includes('--only') || only === section;

const edges = runs('edges') ? await measureEdges() : [];
printTable('Deadline kept (overrun past the bound, ms: median (min–max)) and durable at return', edges, [
  'scenario',
  'boundMs',
  'overrun',
  'callbacksAtReturn',
  'spooledAtReturn',
  'spooledNotOnDisk',
  'notPersisted',
]);
const spool = runs('spool') ? await measureSpool() : [];
printTable('Spool: concurrent appends until all durable (ms: median (min–max))', spool, [
  'records',
  'groupCommitMs',
  'groupCommitRecordsPerSec',
  'groupCommitSyncsPerRecord',
  'perRecordFsyncMs',
  'perRecordFsyncRecordsPerSec',
  'speedup',
]);
const oneway = runs('oneway') ? await measureOneway() : [];
printTable('Oneway bursts on a healthy broker (own process)', oneway, [
  'burst',
  'maxInFlight',
  'deliveredPct',
  'droppedTotal',
  'failedTotal',
  'note',
]);

const out = fileURLToPath(new URL('./results/', import.meta.url));
await mkdir(out, { recursive: true });
const file = join(out, 'edge.json');
// With --only, the other sections keep their figures from the last run that measured them.
const previous = process.argv.includes('--only')
  ? (JSON.parse(await readFile(file, 'utf8').catch(() => '{}')) as Record<string, unknown>)
  : {};
await writeFile(
  file,
  `${JSON.stringify(
    {
      ...previous,
      date: new Date().toISOString(),
      cpus: cpus().length,
      quick,
      rounds: ROUNDS,
      ...(runs('edges') && { edges }),
      ...(runs('spool') && { spool }),
      ...(runs('oneway') && { oneway }),
    },
    null,
    2,
  )}\n`,
);
process.stdout.write(`\nwrote ${file}\n`);
