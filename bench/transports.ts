/**
 * The lean transport side by side with the official client, against one embedded broker in its own
 * process:
 *   1. sync sends, sequential and 64 concurrent: the raw official client, our producer on the official
 *      transport, our producer on the lean transport, and the lean transport alone (`bare`). Each
 *      round runs every side in alternating blocks (the order rotates per block), so machine noise
 *      hits all sides; ratios are paired per round.
 *      Client CPU per message is this process's user + system time over the side's blocks.
 *   2. the first send after a simulated five-minute freeze (the broker silences the open connections;
 *      for the lean transport its clock also moves five minutes on).
 *   3. protobuf: encoding a SendMessageRequest and decoding its answer with google-protobuf (the
 *      official client's classes), protobufjs's generated static code (the lean transport) and a
 *      bench-only hand-written encoder on protobufjs's Writer.
 *   4. bundle size of FC order-confirmation for each transport, and its cold start (spawn → first ack)
 *      against a bundle of the raw client.
 * Prints markdown tables and writes bench/results/transports-latest.json.
 *
 *   node --expose-gc --import tsx bench/transports.ts [--n 1000] [--rounds 5] [--concurrency 64] [--quick]
 */
import { spawn } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import protobuf from 'protobufjs/minimal.js';
import { PublishingMessage, Producer as RawProducer } from 'rocketmq-client-nodejs';
import definitionPb from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import servicePb from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import { bundle, esbuildOptions } from '../infra/build/bundle.js';
import { resolveConfig } from '../lib/entries/advanced.js';
import { createProducer, validateMessage } from '../lib/index.js';
import { LeanTransport } from '../lib/transport/index.js';
import { SendMessageRequestType, SendMessageResponseType } from '../lib/transport/lean/proto.js';
import { type BrokerProcess, startBrokerProcess } from './broker-process.js';
import { BODY, elapsedMs, SYNC_TOPIC, silentClientLogger } from './context.js';
import { benchFreeze } from './freeze.js';
import { latencySummary, roundSpread, type Spread, spreadOf } from './stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = join(ROOT, 'bench', 'results', 'transports-latest.json');
const DRIVER = fileURLToPath(new URL('./cold-start-driver.cjs', import.meta.url));
const RAW_ENTRY = fileURLToPath(new URL('./cold-start-raw.ts', import.meta.url));
const WORK_DIR = join(tmpdir(), 'rocketmq-serverless-bench-transports');
/** Today's FC order-confirmation bundle on the official client (issue 16): 935 KiB. */
const BASELINE_BUNDLE_BYTES = 935 * 1024;

type Send = () => Promise<unknown>;
/** raw: the official client alone; official / lean: our producer on each transport; bare: the lean transport alone. */
const SIDES = ['raw', 'official', 'lean', 'bare'] as const;
type Side = (typeof SIDES)[number];

interface Block {
  latencies: number[];
  wallMs: number;
  cpuUs: number;
  brokerCpuMs: number;
  failed: number;
}

interface SideRound {
  msgsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  clientCpuUsPerMsg: number;
  brokerCpuUsPerMsg: number;
  failed: number;
}

function options() {
  const { values } = parseArgs({
    options: {
      n: { type: 'string' },
      rounds: { type: 'string' },
      concurrency: { type: 'string' },
      quick: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const quick = values.quick ?? false;
  return {
    n: Number(values.n ?? (quick ? 200 : 1000)),
    rounds: Number(values.rounds ?? (quick ? 1 : 5)),
    concurrency: Number(values.concurrency ?? 64),
    quick,
  };
}

const progress = (line: string) => process.stderr.write(`${line}\n`);

async function run(
  send: Send,
  count: number,
  workers: number,
): Promise<Omit<Block, 'cpuUs' | 'brokerCpuMs'>> {
  const latencies: number[] = new Array(count);
  let failed = 0;
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: Math.min(workers, count) }, async () => {
      while (next < count) {
        const index = next++;
        const sent = process.hrtime.bigint();
        try {
          await send();
        } catch {
          failed++;
        }
        latencies[index] = elapsedMs(sent);
      }
    }),
  );
  return { latencies, failed, wallMs: elapsedMs(started) };
}

/** One round: `count` sends per side in `blocks` blocks, the side order rotating per block. */
async function round(
  broker: BrokerProcess,
  sends: Record<Side, Send>,
  count: number,
  blocks: number,
  workers: number,
): Promise<Record<Side, SideRound>> {
  const acc = Object.fromEntries(
    SIDES.map((side): [Side, Block] => [
      side,
      { latencies: [], wallMs: 0, cpuUs: 0, brokerCpuMs: 0, failed: 0 },
    ]),
  ) as Record<Side, Block>;
  const size = Math.ceil(count / blocks);
  for (let block = 0; block < blocks; block++) {
    const order = SIDES.map((_, i) => SIDES[(i + block) % SIDES.length] as Side);
    for (const side of order) {
      const brokerBefore = await broker.snapshot();
      const cpuBefore = process.cpuUsage();
      const result = await run(sends[side], size, workers);
      const cpu = process.cpuUsage(cpuBefore);
      const brokerAfter = await broker.snapshot();
      const into = acc[side];
      into.latencies.push(...result.latencies);
      into.wallMs += result.wallMs;
      into.cpuUs += cpu.user + cpu.system;
      into.brokerCpuMs += brokerAfter.cpuMs - brokerBefore.cpuMs;
      into.failed += result.failed;
    }
  }
  return Object.fromEntries(
    SIDES.map((side) => {
      const a = acc[side];
      const messages = a.latencies.length;
      const { p50, p99 } = latencySummary(Float64Array.from(a.latencies));
      return [
        side,
        {
          msgsPerSec: messages / (a.wallMs / 1000),
          p50Ms: p50,
          p99Ms: p99,
          clientCpuUsPerMsg: a.cpuUs / messages,
          brokerCpuUsPerMsg: (a.brokerCpuMs * 1000) / messages,
          failed: a.failed,
        },
      ];
    }),
  ) as Record<Side, SideRound>;
}

function summarize(rounds: Record<Side, SideRound>[]) {
  const side = (name: Side) => ({
    msgsPerSec: roundSpread(
      spreadOf(rounds, (r) => r[name].msgsPerSec),
      0,
    ),
    p50Ms: roundSpread(
      spreadOf(rounds, (r) => r[name].p50Ms),
      3,
    ),
    p99Ms: roundSpread(
      spreadOf(rounds, (r) => r[name].p99Ms),
      3,
    ),
    clientCpuUsPerMsg: roundSpread(
      spreadOf(rounds, (r) => r[name].clientCpuUsPerMsg),
      0,
    ),
    brokerCpuUsPerMsg: roundSpread(
      spreadOf(rounds, (r) => r[name].brokerCpuUsPerMsg),
      0,
    ),
    failed: rounds.reduce((sum, r) => sum + r[name].failed, 0),
  });
  const ratio = (pick: (r: SideRound) => number, of: Side) =>
    roundSpread(
      spreadOf(rounds, (r) => pick(r[of]) / pick(r.raw)),
      3,
    );
  return {
    raw: side('raw'),
    official: side('official'),
    lean: side('lean'),
    bare: side('bare'),
    /** Paired per round, against the raw client. */
    throughputRatio: {
      lean: ratio((r) => r.msgsPerSec, 'lean'),
      official: ratio((r) => r.msgsPerSec, 'official'),
      bare: ratio((r) => r.msgsPerSec, 'bare'),
    },
    cpuRatio: {
      lean: ratio((r) => r.clientCpuUsPerMsg, 'lean'),
      official: ratio((r) => r.clientCpuUsPerMsg, 'official'),
      bare: ratio((r) => r.clientCpuUsPerMsg, 'bare'),
    },
  };
}

async function benchSync(
  broker: BrokerProcess,
  n: number,
  rounds: number,
  concurrency: number,
  quick: boolean,
) {
  const raw = new RawProducer({ endpoints: broker.endpoint, namespace: '', logger: silentClientLogger });
  await raw.startup();
  const official = createProducer({ endpoints: broker.endpoint, transport: 'official' });
  const lean = createProducer({ endpoints: broker.endpoint, transport: 'lean' });
  const bare = new LeanTransport(resolveConfig({ endpoints: broker.endpoint }, {}), silentClientLogger);
  const sends: Record<Side, Send> = {
    raw: () => raw.send({ topic: SYNC_TOPIC, body: BODY }),
    official: () => official.send({ topic: SYNC_TOPIC, body: BODY }),
    lean: () => lean.send({ topic: SYNC_TOPIC, body: BODY }),
    // The message is validated per send, as the producer does, so only the producer's own layers differ.
    bare: () => bare.send(validateMessage({ topic: SYNC_TOPIC, body: BODY })),
  };
  try {
    const warmup = quick ? 50 : 500;
    for (const side of SIDES) {
      await run(sends[side], warmup, 1);
      await run(sends[side], warmup, concurrency);
    }
    const sequential: Record<Side, SideRound>[] = [];
    const concurrent: Record<Side, SideRound>[] = [];
    for (let r = 0; r < rounds; r++) {
      progress(`sync round ${r + 1}/${rounds}`);
      globalThis.gc?.();
      sequential.push(await round(broker, sends, n, 6, 1));
      concurrent.push(await round(broker, sends, n, 3, concurrency));
    }
    return {
      messagesPerRound: n,
      concurrency,
      sequential: summarize(sequential),
      concurrent: summarize(concurrent),
    };
  } finally {
    await Promise.all([raw.shutdown(), official.shutdown(), lean.shutdown(), bare.close()]);
  }
}

/** A SendMessageRequest encoder written against the .proto by hand, for comparison only. */
function handWrittenEncode(m: {
  topic: string;
  body: Buffer;
  keys: string[];
  messageId: string;
  bornMs: number;
  bornHost: string;
}): Uint8Array {
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 2).fork(); // messages
  w.uint32((1 << 3) | 2)
    .fork()
    .uint32((1 << 3) | 2)
    .string(m.topic)
    .ldelim(); // topic.name
  w.uint32((3 << 3) | 2).fork(); // system_properties
  for (const key of m.keys) w.uint32((2 << 3) | 2).string(key);
  w.uint32((3 << 3) | 2).string(m.messageId);
  const seconds = Math.floor(m.bornMs / 1000);
  w.uint32((5 << 3) | 2)
    .fork()
    .uint32(1 << 3)
    .int64(seconds)
    .uint32(2 << 3)
    .int32((m.bornMs - seconds * 1000) * 1e6)
    .ldelim();
  w.uint32((6 << 3) | 2).string(m.bornHost);
  w.uint32(9 << 3).int32(1); // body_encoding IDENTITY
  w.uint32(10 << 3).int32(0); // queue_id
  w.uint32(11 << 3).int32(1); // message_type NORMAL
  w.ldelim();
  w.uint32((4 << 3) | 2).bytes(m.body);
  w.ldelim();
  return w.finish();
}

function benchCodec(iterations: number) {
  const message = {
    topic: SYNC_TOPIC,
    body: BODY,
    keys: ['k'],
    messageId: '01ABCDEF0123456789',
    bornMs: Date.now(),
    bornHost: 'host',
  };
  const response = new servicePb.SendMessageResponse()
    .setStatus(new definitionPb.Status().setCode(20000).setMessage('OK'))
    .setEntriesList([
      new servicePb.SendResultEntry()
        .setStatus(new definitionPb.Status().setCode(20000))
        .setMessageId(message.messageId)
        .setOffset(12345),
    ])
    .serializeBinary();
  const settings = { maxBodySizeBytes: 4 * 1024 * 1024 } as ConstructorParameters<
    typeof PublishingMessage
  >[1];
  const queue = { queueId: 0 } as Parameters<PublishingMessage['toProtobuf']>[1];
  const cases: Record<string, () => unknown> = {
    'google-protobuf (official client)': () => {
      const request = new servicePb.SendMessageRequest();
      request.addMessages(
        new PublishingMessage(
          { topic: message.topic, body: message.body, keys: message.keys },
          settings,
          false,
        ).toProtobuf('', queue),
      );
      request.serializeBinary();
      return servicePb.SendMessageResponse.deserializeBinary(response).toObject();
    },
    'protobufjs static code generated from the .proto (lean)': () => {
      const seconds = Math.floor(message.bornMs / 1000);
      SendMessageRequestType.encode({
        messages: [
          {
            topic: { name: message.topic, resourceNamespace: '' },
            userProperties: {},
            systemProperties: {
              keys: message.keys,
              messageId: message.messageId,
              bornTimestamp: { seconds, nanos: (message.bornMs - seconds * 1000) * 1e6 },
              bornHost: message.bornHost,
              bodyEncoding: 1,
              queueId: 0,
              messageType: 1,
            },
            body: message.body,
          },
        ],
      }).finish();
      return SendMessageResponseType.decode(response);
    },
    'hand-written encoder (bench only) + protobufjs decode': () => {
      handWrittenEncode(message);
      return SendMessageResponseType.decode(response);
    },
  };
  const results: Record<string, number> = {};
  for (const [name, fn] of Object.entries(cases)) {
    for (let i = 0; i < iterations / 4; i++) fn();
    const samples: number[] = [];
    for (let r = 0; r < 5; r++) {
      const cpu = process.cpuUsage();
      for (let i = 0; i < iterations; i++) fn();
      const used = process.cpuUsage(cpu);
      samples.push((used.user + used.system) / iterations);
    }
    results[name] = roundSpread(
      spreadOf(samples, (x) => x),
      2,
    ).median;
  }
  return { iterations, cpuUsPerRequestAndAnswer: results };
}

async function bundleSizes() {
  const out = join(WORK_DIR, 'bundles');
  const entry = join(ROOT, 'functions', 'order-confirmation', 'fc.ts');
  const lean = await bundle({
    entry,
    outFile: join(out, 'lean', 'index.js'),
    format: 'cjs',
    transport: 'lean',
  });
  const official = await bundle({
    entry,
    outFile: join(out, 'official', 'index.js'),
    format: 'cjs',
    transport: 'official',
  });
  const { build } = await import('esbuild');
  const rawFile = join(out, 'raw', 'index.js');
  await build({ ...esbuildOptions({ entry: RAW_ENTRY, outFile: rawFile, format: 'cjs' }), sourcemap: false });
  const leanBytes = statSync(lean.outFile).size;
  return {
    leanFile: lean.outFile,
    rawFile,
    leanBytes,
    officialBytes: statSync(official.outFile).size,
    rawClientBytes: statSync(rawFile).size,
    leanVsBaseline: Math.round((leanBytes / BASELINE_BUNDLE_BYTES) * 1000) / 1000,
  };
}

function coldStartOnce(args: string[], endpoint: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const { NODE_OPTIONS: _dropped, ...env } = process.env;
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [DRIVER, ...args], {
      env: {
        ...env,
        ROCKETMQ_ENDPOINTS: endpoint,
        ROCKETMQ_TRANSPORT: 'lean',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let total: number | undefined;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (total === undefined && /COLD_START_RESULT .*\n/.test(stdout)) total = elapsedMs(started);
    });
    child.on('exit', (code) =>
      total !== undefined ? resolve(total) : reject(new Error(`cold start exited ${code}`)),
    );
  });
}

async function benchColdStart(endpoint: string, leanFile: string, rawFile: string, rounds: number) {
  const event = join(ROOT, 'events', 'fc', 'http-order.json');
  const leanArgs = ['fc', leanFile, event];
  const rawArgs = ['raw', rawFile, endpoint];
  await coldStartOnce(leanArgs, endpoint);
  await coldStartOnce(rawArgs, endpoint);
  const lean: number[] = [];
  const raw: number[] = [];
  for (let r = 0; r < rounds; r++) {
    progress(`cold start round ${r + 1}/${rounds}`);
    raw.push(await coldStartOnce(rawArgs, endpoint));
    lean.push(await coldStartOnce(leanArgs, endpoint));
  }
  return {
    rounds,
    leanMs: roundSpread(
      spreadOf(lean, (x) => x),
      1,
    ),
    rawMs: roundSpread(
      spreadOf(raw, (x) => x),
      1,
    ),
    ratio: roundSpread(
      spreadOf(
        lean.map((l, i) => l / (raw[i] ?? Number.NaN)),
        (x) => x,
      ),
      3,
    ),
  };
}

const fmt = (s: Spread, unit = '') => `${s.median}${unit} (${s.min}–${s.max})`;

function table(result: Awaited<ReturnType<typeof main>>): string {
  const lines: string[] = [];
  lines.push(
    `Machine: ${result.machine.cpus}× ${result.machine.model}, load ${result.machine.loadavg.join(' ')} (shared with other work)`,
  );
  for (const kind of ['sequential', 'concurrent'] as const) {
    const s = result.sync[kind];
    lines.push(
      '',
      `### sync ${kind === 'sequential' ? 'sequential' : `${result.sync.concurrency} concurrent`} (${result.sync.messagesPerRound} msgs/round/side, ${result.rounds} rounds)`,
    );
    lines.push(
      '| side | msg/s | p50 ms | p99 ms | client CPU µs/msg | broker CPU µs/msg | failed |',
      '| --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const side of SIDES) {
      const v = s[side];
      lines.push(
        `| ${side} | ${fmt(v.msgsPerSec)} | ${fmt(v.p50Ms)} | ${fmt(v.p99Ms)} | ${fmt(v.clientCpuUsPerMsg)} | ${fmt(v.brokerCpuUsPerMsg)} | ${v.failed} |`,
      );
    }
    lines.push(
      `Throughput vs raw (paired): lean ${fmt(s.throughputRatio.lean, '×')}, official ${fmt(s.throughputRatio.official, '×')}, lean transport alone ${fmt(s.throughputRatio.bare, '×')}; client CPU/msg vs raw: lean ${fmt(s.cpuRatio.lean, '×')}, official ${fmt(s.cpuRatio.official, '×')}, lean transport alone ${fmt(s.cpuRatio.bare, '×')}`,
    );
  }
  lines.push(
    '',
    '### first send after a simulated 5-minute freeze',
    `official ${fmt(result.freeze.officialMs, ' ms')} (attempts ${result.freeze.officialAttempts.join(',')}); lean ${fmt(result.freeze.leanMs, ' ms')} (attempts ${result.freeze.leanAttempts.join(',')})`,
  );
  lines.push('', '### protobuf, CPU µs per SendMessageRequest encode + SendMessageResponse decode');
  for (const [name, us] of Object.entries(result.codec.cpuUsPerRequestAndAnswer))
    lines.push(`- ${name}: ${us} µs`);
  const b = result.bundles;
  lines.push(
    '',
    '### FC order-confirmation bundle',
    `lean ${(b.leanBytes / 1024).toFixed(1)} KiB, official ${(b.officialBytes / 1024).toFixed(1)} KiB, raw client alone ${(b.rawClientBytes / 1024).toFixed(1)} KiB; lean / 935 KiB = ${b.leanVsBaseline}×`,
  );
  if (result.coldStart) {
    const c = result.coldStart;
    lines.push(
      '',
      '### cold start, spawn → first ack',
      `lean FC bundle ${fmt(c.leanMs, ' ms')}, raw-client bundle ${fmt(c.rawMs, ' ms')}, ratio ${fmt(c.ratio, '×')} (${c.rounds} rounds)`,
    );
  }
  return lines.join('\n');
}

async function main() {
  const { n, rounds, concurrency, quick } = options();
  // The producers' JSON logs would drown the tables; read when each producer creates its logger.
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  mkdirSync(WORK_DIR, { recursive: true });
  const broker = await startBrokerProcess();
  try {
    const sync = await benchSync(broker, n, rounds, concurrency, quick);
    progress('freeze');
    const freeze = await benchFreeze(broker, quick ? 1 : 5);
    progress('codec');
    const codec = benchCodec(quick ? 5_000 : 50_000);
    progress('bundles');
    const bundles = await bundleSizes();
    const coldStart = quick
      ? undefined
      : await benchColdStart(broker.endpoint, bundles.leanFile, bundles.rawFile, 5);
    return {
      date: new Date().toISOString(),
      machine: {
        cpus: availableParallelism(),
        model: cpus()[0]?.model ?? '?',
        loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
      },
      rounds,
      sync,
      freeze,
      codec,
      bundles: { ...bundles, leanFile: undefined, rawFile: undefined },
      coldStart,
    };
  } finally {
    await broker.stop();
  }
}

const result = await main();
mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
writeFileSync(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`${table(result)}\n`);
