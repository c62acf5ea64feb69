/**
 * 5. Cold start: from spawning a fresh `node` process to the first acked message. "ours" loads the
 * bundled FC function `dist/fc/order-confirmation/index.js` and calls its initializer and handler with
 * the sample HTTP event; "raw" loads a bundle of bench/cold-start-raw.ts, built here with the same
 * esbuild options `npm run build` uses, and sends one message with the official client. Both run under
 * bench/cold-start-driver.cjs, rounds interleaved; the clock starts in this process just before spawn
 * and stops when the child's result line arrives.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FC_ORDER_BUNDLE, ROOT } from './bundles.js';
import type { BenchContext } from './context.js';
import { roundSpread, type Spread, spreadOf } from './stats.js';

const DRIVER = fileURLToPath(new URL('./cold-start-driver.cjs', import.meta.url));
const RAW_ENTRY = fileURLToPath(new URL('./cold-start-raw.ts', import.meta.url));
const HTTP_EVENT = join(ROOT, 'events', 'fc', 'http-order.json');
const SPAWN_TIMEOUT_MS = 30_000;

interface Start {
  /** spawn → result line, measured here. */
  totalMs: number;
  /** The child's own clock: Node start-up, then loading the bundle, then the first send until its ack. */
  nodeStartMs: number;
  loadMs: number;
  firstSendMs: number;
}

export interface ColdStartSide {
  totalMs: Spread;
  nodeStartMs: Spread;
  loadMs: Spread;
  firstSendMs: Spread;
}

export interface ColdStartResult {
  rounds: number;
  ours: ColdStartSide & { bundle: string };
  raw: ColdStartSide & { bundle: string };
  /** ours/raw totalMs, paired per round. */
  ratio: Spread;
}

const WORK_DIR = join(tmpdir(), 'rocketmq-serverless-bench');

/**
 * The function bundle is CommonJS in a `.js` file; inside this repository the package.json's
 * `"type": "module"` would make Node load it as an ES module. A copy outside the repository loads the
 * way FC loads the unzipped package, which has no package.json.
 */
function copyFunctionBundle(): string {
  const dir = join(WORK_DIR, 'fc-order-confirmation');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'index.js');
  copyFileSync(FC_ORDER_BUNDLE, file);
  return file;
}

async function bundleRawClient(): Promise<string> {
  const outDir = join(WORK_DIR, 'raw-client');
  mkdirSync(outDir, { recursive: true });
  const outFile = join(outDir, 'index.js');
  // The build's own options (minified CommonJS, node20, its plugins), so both bundles are made alike.
  const { esbuildOptions } = await import('../infra/build/bundle.js');
  const { build } = await import('esbuild');
  const result = await build({
    ...esbuildOptions({ entry: RAW_ENTRY, outFile, format: 'cjs' }),
    sourcemap: false,
  });
  if (result.errors.length > 0) throw new Error(`esbuild failed for ${RAW_ENTRY}`);
  return outFile;
}

function startOnce(args: string[], endpoint: string): Promise<Start> {
  return new Promise((resolve, reject) => {
    // No NODE_OPTIONS: a loader inherited from the benchmark would slow the child's start-up.
    const { NODE_OPTIONS: _dropped, ...env } = process.env;
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [DRIVER, ...args], {
      env: { ...env, ROCKETMQ_ENDPOINTS: endpoint },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let done = false;
    let measured: Start | undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), SPAWN_TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const line = /COLD_START_RESULT (.*)\n/.exec(stdout)?.[1];
      if (done || line === undefined) return;
      done = true;
      const totalMs = Number(process.hrtime.bigint() - started) / 1e6;
      const times = JSON.parse(line) as { scriptStartMs: number; loadedMs: number; ackedMs: number };
      measured = {
        totalMs,
        nodeStartMs: times.scriptStartMs,
        loadMs: times.loadedMs - times.scriptStartMs,
        firstSendMs: times.ackedMs - times.loadedMs,
      };
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    // Resolves only once the child is gone, so its teardown never overlaps the next start.
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (measured) resolve(measured);
      else reject(new Error(`cold-start child ${args[0]} exited with ${code}: ${stderr.trim()}`));
    });
  });
}

function summarize(starts: readonly Start[]): ColdStartSide {
  return {
    totalMs: roundSpread(
      spreadOf(starts, (s) => s.totalMs),
      1,
    ),
    nodeStartMs: roundSpread(
      spreadOf(starts, (s) => s.nodeStartMs),
      1,
    ),
    loadMs: roundSpread(
      spreadOf(starts, (s) => s.loadMs),
      1,
    ),
    firstSendMs: roundSpread(
      spreadOf(starts, (s) => s.firstSendMs),
      1,
    ),
  };
}

export async function benchColdStart(context: BenchContext): Promise<ColdStartResult> {
  const rawBundle = await bundleRawClient();
  const ours: Start[] = [];
  const raw: Start[] = [];
  const oursArgs = ['fc', copyFunctionBundle(), HTTP_EVENT];
  const rawArgs = ['raw', rawBundle, context.endpoint];
  // One unmeasured start of each warms the disk cache, as a platform's image cache would be.
  await startOnce(rawArgs, context.endpoint);
  await startOnce(oursArgs, context.endpoint);
  const rounds = Math.max(context.rounds, 5);
  for (let r = 0; r < rounds; r++) {
    context.progress(`cold start round ${r + 1}/${rounds}`);
    raw.push(await startOnce(rawArgs, context.endpoint));
    ours.push(await startOnce(oursArgs, context.endpoint));
  }
  const ratios = ours.map((o, i) => o.totalMs / (raw[i]?.totalMs ?? Number.NaN));
  return {
    rounds,
    ours: { ...summarize(ours), bundle: 'dist/fc/order-confirmation/index.js (npm run build)' },
    raw: {
      ...summarize(raw),
      bundle: 'bench/cold-start-raw.ts bundled by esbuild with the esbuildOptions of infra/build/bundle.ts',
    },
    ratio: roundSpread(
      spreadOf(ratios, (x) => x),
      3,
    ),
  };
}
