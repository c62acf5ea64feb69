/**
 * `npm run bench`: every benchmark in one run, against the embedded broker in a separate process: the
 * send modes on the raw official client and on our producer over each transport, freeze and thaw,
 * wrappers, memory, instrumentation, cold start and bundle sizes. Prints markdown tables on stdout
 * (progress on stderr) and writes `bench/results/<YYYY-MM-DD>.json`, `bench/results/latest.json` and the
 * chart `bench/results/send-modes.svg`.
 *
 *   node --expose-gc --import tsx bench/run.ts [--quick] [--n 2000] [--concurrency 64] [--rounds 5]
 *     [--oneway-n 10000] [--out-dir bench/results] [--build]
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startBrokerProcess } from './broker-process.js';
import { bundleSizesIfPresent, ensureBuild, readBundleSizes } from './bundles.js';
import { renderChart } from './chart.js';
import { benchColdStart } from './cold-start.js';
import { type BenchContext, type BenchOptions, OutputGate } from './context.js';
import { benchFreeze } from './freeze.js';
import { benchInstrumentation } from './instrumentation.js';
import { benchMemory } from './memory.js';
import { benchOneway } from './oneway.js';
import { benchSendModes } from './send-modes.js';
import { renderAll } from './table.js';
import { evaluateTargets } from './targets.js';
import { benchWrappers } from './wrappers.js';

const CHART_FILE = 'send-modes.svg';

const USAGE = `Usage: npm run bench -- [options]

  --quick              smoke run: small N, 1 round, no cold start, no 100k memory part (< 30 s)
  --n <count>          messages per round for sync/async, iterations for wrappers (default 2000, quick 200)
  --concurrency <c>    concurrent sync senders (default 64)
  --rounds <r>         rounds per figure; each figure is their median with min and max (default 5, quick 1)
  --oneway-n <count>   sendOneway calls per round (default 10000, quick 200)
  --out-dir <dir>      where the JSON goes (default bench/results)
  --build              run npm run build first even when dist/ exists
  -h, --help           this text`;

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`--${name} must be a whole number ≥ 1`);
  return parsed;
}

function parseOptions(): (BenchOptions & { outDir: string; build: boolean }) | undefined {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      n: { type: 'string' },
      concurrency: { type: 'string' },
      rounds: { type: 'string' },
      'oneway-n': { type: 'string' },
      'out-dir': { type: 'string' },
      build: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return undefined;
  const quick = values.quick ?? false;
  return {
    quick,
    n: positive('n', values.n, quick ? 200 : 2000),
    concurrency: positive('concurrency', values.concurrency, 64),
    rounds: positive('rounds', values.rounds, quick ? 1 : 5),
    onewayN: positive('oneway-n', values['oneway-n'], quick ? 200 : 10_000),
    // A smoke run never replaces the recorded results the README quotes.
    outDir: resolve(
      values['out-dir'] ??
        (quick
          ? join(tmpdir(), 'rocketmq-serverless-bench')
          : fileURLToPath(new URL('./results/', import.meta.url))),
    ),
    build: values.build ?? false,
  };
}

async function main(): Promise<number> {
  let options: ReturnType<typeof parseOptions>;
  try {
    options = parseOptions();
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (!options) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const began = Date.now();
  const loadAtStart = loadavg().map((x) => Math.round(x * 100) / 100);
  const gate = new OutputGate();
  const progress = (line: string) =>
    gate.progress(`[bench ${((Date.now() - began) / 1000).toFixed(0).padStart(4)} s] ${line}`);
  if (typeof globalThis.gc !== 'function')
    progress('warning: no --expose-gc; memory figures include garbage');
  if (!options.quick) ensureBuild(options.build, progress);

  const broker = await startBrokerProcess();
  progress(`broker process ${broker.pid} listening on ${broker.endpoint}`);
  const context: BenchContext = { ...options, broker, endpoint: broker.endpoint, progress };
  gate.mute();
  try {
    const { sync, async } = await benchSendModes(context);
    const oneway = await benchOneway(context);
    context.progress('freeze');
    const freeze = await benchFreeze(broker, options.quick ? 1 : 5);
    const wrappers = await benchWrappers(context);
    const memory = await benchMemory(context);
    const instrumentation = await benchInstrumentation(context);
    const failures: Record<string, string> = {};
    // Cold start and sizes depend on the build; a broken build skips them rather than the whole run.
    const optional = async <T>(name: string, run: () => Promise<T> | T): Promise<T | undefined> => {
      try {
        return await run();
      } catch (error) {
        failures[name] = error instanceof Error ? error.message : String(error);
        progress(`${name} failed: ${failures[name]}`);
        return undefined;
      }
    };
    const coldStart = options.quick ? undefined : await optional('coldStart', () => benchColdStart(context));
    const bundles = await optional('bundles', () =>
      options.quick ? bundleSizesIfPresent() : readBundleSizes(),
    );
    const targets = evaluateTargets({ sync, async, oneway, wrappers, coldStart, bundles, freeze });
    const startedAt = new Date(began);
    const cpuModel = cpus()[0]?.model.trim() ?? 'unknown';
    const meta = {
      date: startedAt.toISOString().slice(0, 10),
      startedAt: startedAt.toISOString(),
      durationSeconds: Math.round((Date.now() - began) / 1000),
      node: process.version,
      v8: process.versions.v8,
      platform: `${process.platform} ${process.arch}`,
      cpuModel,
      cpuCount: availableParallelism(),
      totalMemoryGiB: Math.round(totalmem() / 2 ** 30),
      /** 1/5/15-minute load averages when the run started and ended: how busy the machine was. */
      loadAverage: { start: loadAtStart, end: loadavg().map((x) => Math.round(x * 100) / 100) },
      gcExposed: typeof globalThis.gc === 'function',
      broker: 'embedded broker in a separate node process (bench/broker-child.ts), no per-message logging',
      options: {
        quick: options.quick,
        n: options.n,
        concurrency: options.concurrency,
        rounds: options.rounds,
        onewayN: options.onewayN,
      },
      quick: options.quick,
      rounds: options.rounds,
      libraryLogLines: gate.swallowed,
      libraryWarnings: gate.warnings,
      failures,
    };
    const results = {
      meta,
      targets,
      sync,
      async,
      oneway,
      freeze,
      wrappers,
      coldStart,
      memory,
      bundles,
      instrumentation,
    };
    gate.unmute();
    gate.print(renderAll(results));
    mkdirSync(options.outDir, { recursive: true });
    const file = join(options.outDir, `${meta.date}.json`);
    // Skipped parts are written as null, so the file always has the same keys.
    writeFileSync(file, `${JSON.stringify(results, (_key, value) => value ?? null, 2)}\n`);
    copyFileSync(file, join(options.outDir, 'latest.json'));
    const chart = join(options.outDir, CHART_FILE);
    writeFileSync(
      chart,
      renderChart({
        title: `Send modes by side, ${meta.date}${options.quick ? ' (--quick smoke run)' : ''}`,
        subtitle: [
          `${meta.cpuCount} × ${cpuModel}, Node ${meta.node}, load average ${meta.loadAverage.start[0]} → ` +
            `${meta.loadAverage.end[0]} (shared machine); broker in its own process on the same machine`,
          `${options.rounds} round(s) of ${options.n.toLocaleString('en-US')} sync/async and ` +
            `${options.onewayN.toLocaleString('en-US')} oneway messages per side, 256-byte bodies, loopback`,
        ],
        sync,
        async,
        oneway,
      }),
    );
    progress(`wrote ${file}, latest.json and ${CHART_FILE} in ${meta.durationSeconds} s`);
    return 0;
  } finally {
    gate.unmute();
    await broker.stop();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  },
);
