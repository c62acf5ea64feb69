import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildReport } from '../../infra/build/report.js';
import { useBroker } from '../support/broker-fixture.js';
import { type CliRun, runTs } from './support/run-cli.js';
import { readZip } from './support/zip-reader.js';

const FUNCTIONS = [
  'metrics-reporter',
  'object-fanout',
  'order-confirmation',
  'order-fulfilment',
  'spool-redeliver',
];
/** Bundles that pull with the official SimpleConsumer (Lambda has no RocketMQ trigger). */
const POLLING = new Set(['aws/order-fulfilment']);
// FC's runtime has no AWS SDK: spool-redeliver's FC bundle carries the S3 client for the object spool.
const CARRIES_S3_SDK = new Set(['fc/spool-redeliver']);
const ROOT = resolve(import.meta.dirname, '..', '..');

// Fake secrets in every variable a careless build could inline (define, dotenv, a config read at build time).
const PLANTED = {
  ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAIplantedBuildKeyId7Q',
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'plantedBuildSecret-3kq9ZxW',
  ALIBABA_CLOUD_SECURITY_TOKEN: 'plantedBuildStsToken-Hh2',
  AWS_ACCESS_KEY_ID: 'AKIAPLANTEDBUILD0001',
  AWS_SECRET_ACCESS_KEY: 'plantedAwsSecret/Build+9f',
  ROCKETMQ_ACCESS_KEY: 'plantedMqUser-build',
  ROCKETMQ_SECRET_KEY: 'plantedMqPassword-build',
  ROCKETMQ_ENDPOINTS: 'planted-endpoint.invalid:8081',
};

let outDir: string;
let build: CliRun;
let overBudget: CliRun;
let report: BuildReport;

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'rocketmq-build-'));
  const tinyBudget = join(outDir, 'tiny-budget.json');
  const limits = { rawBytes: 1000, gzipBytes: 1000, zipBytes: 1000 };
  await writeFile(tinyBudget, JSON.stringify({ fc: limits, aws: limits }));
  [build, overBudget] = await Promise.all([
    runTs('infra/build/build.ts', ['--out-dir', join(outDir, 'dist')], PLANTED, { timeoutMs: 60_000 }),
    runTs(
      'infra/build/build.ts',
      ['--out-dir', join(outDir, 'over'), '--budget', tinyBudget],
      {},
      { timeoutMs: 60_000 },
    ),
  ]);
  expect(build.code, build.stderr).toBe(0);
  report = JSON.parse(await readFile(join(outDir, 'dist', 'build-report.json'), 'utf8'));
}, 90_000);

afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

const dist = (...parts: string[]) => join(outDir, 'dist', ...parts);

describe('npm run build', () => {
  it('prints a size table with raw and gzip sizes of every bundle and the raw client', () => {
    for (const name of [...FUNCTIONS, 'raw-client'])
      expect(build.stdout).toMatch(new RegExp(`fc\\s+${name}\\s+[\\d.]+ KiB\\s+[\\d.]+ KiB`));
    for (const name of FUNCTIONS) expect(build.stdout).toMatch(new RegExp(`aws\\s+${name}\\s+[\\d.]+ KiB`));
    expect(build.stdout).toMatch(/vs raw client/);
  });

  it('writes a report with sizes, ratios against the raw client and the budget', () => {
    expect(report.bundles.map((b) => `${b.platform}/${b.name}`).sort()).toEqual(
      ['aws', 'fc'].flatMap((platform) => FUNCTIONS.map((name) => `${platform}/${name}`)).sort(),
    );
    for (const bundle of report.bundles) {
      expect(bundle.gzipBytes).toBeLessThan(bundle.rawBytes);
      expect(bundle.zipBytes).toBeGreaterThan(0);
      // On the lean transport only a bundle that polls with the official SimpleConsumer carries the
      // client; the others are a fraction of the client's own bundle.
      const ratio = report.ratios[`${bundle.platform}/${bundle.name}`];
      if (POLLING.has(`${bundle.platform}/${bundle.name}`)) expect(ratio).toBeGreaterThanOrEqual(1);
      else if (CARRIES_S3_SDK.has(`${bundle.platform}/${bundle.name}`)) expect(ratio).toBeLessThan(1);
      else expect(ratio).toBeLessThan(0.5);
    }
    expect(report.rawClient.map((b) => b.platform).sort()).toEqual(['aws', 'fc']);
    expect(report.overBudget).toEqual([]);
  });

  it('lays out FC (CommonJS index.js) and Lambda (ESM index.mjs) bundles with linked maps and zips', async () => {
    for (const name of FUNCTIONS) {
      const fc = await readFile(dist('fc', name, 'index.js'), 'utf8');
      expect(fc).toMatch(/^"use strict";/);
      expect(fc).toMatch(/\/\/# sourceMappingURL=index\.js\.map\s*$/);
      const aws = await readFile(dist('aws', name, 'index.mjs'), 'utf8');
      expect(aws).toMatch(/^import \{ createRequire as \w+ \} from 'node:module';/);
      expect(aws).toMatch(/\/\/# sourceMappingURL=index\.mjs\.map\s*$/);
      for (const [platform, file, code] of [
        ['fc', 'index.js', fc],
        ['aws', 'index.mjs', aws],
      ] as const) {
        const entries = readZip(await readFile(dist(platform, `${name}.zip`)));
        expect(entries.map((entry) => entry.name)).toEqual([file, `${file}.map`]);
        expect(entries[0]?.data.toString()).toBe(code);
      }
    }
  });

  it('keeps middy out of FC bundles and the FC SDK out of Lambda bundles (per the source maps)', async () => {
    for (const name of FUNCTIONS) {
      const fcSources: string[] = JSON.parse(
        await readFile(dist('fc', name, 'index.js.map'), 'utf8'),
      ).sources;
      const awsSources: string[] = JSON.parse(
        await readFile(dist('aws', name, 'index.mjs.map'), 'utf8'),
      ).sources;
      expect(fcSources.some((source) => source.includes('lib/transport/lean/'))).toBe(true);
      expect(fcSources.filter((source) => source.includes('rocketmq-client-nodejs'))).toEqual([]);
      expect(fcSources.filter((source) => /@middy|platforms\/lambda\.ts/.test(source))).toEqual([]);
      expect(awsSources.some((source) => source.includes('@middy/core'))).toBe(true);
      expect(awsSources.filter((source) => /@alicloud|platforms\/fc\.ts/.test(source))).toEqual([]);
      // Build-time replacements: the native CRC-32 addon and the client's file logger (with iconv-lite).
      expect(
        [...fcSources, ...awsSources].filter((source) =>
          /node_modules\/(@node-rs\/crc32|egg-logger|iconv-lite)\//.test(source),
        ),
      ).toEqual([]);
    }
  });

  it('leaves no planted secret in any output file, zip entry or the build log', async () => {
    const files = (await readdir(dist(), { recursive: true })).map((file) => dist(file));
    const texts: [string, string][] = [['build output', build.stdout + build.stderr]];
    for (const file of files) {
      if (file.endsWith('.zip')) {
        for (const entry of readZip(await readFile(file)))
          texts.push([`${file}!${entry.name}`, entry.data.toString('latin1')]);
      } else if (/\.(m?js|map|json)$/.test(file)) {
        texts.push([file, await readFile(file, 'latin1')]);
      }
    }
    expect(texts.length).toBeGreaterThan(12);
    for (const [where, text] of texts) {
      for (const secret of Object.values(PLANTED))
        expect(text.includes(secret), `${secret} in ${where}`).toBe(false);
    }
  });

  it('fails with exit 1 and names each bundle over the budget', () => {
    expect(overBudget.code).toBe(1);
    expect(overBudget.stderr).toMatch(/build failed: over the size budget/);
    expect(overBudget.stderr).toMatch(/fc\/order-confirmation: rawBytes [\d,]+ > budget 1,000/);
    expect(overBudget.stderr).toMatch(/aws\/metrics-reporter: zipBytes [\d,]+ > budget 1,000/);
  });

  it('rejects unknown options with usage and exit 2', async () => {
    const run = await runTs('infra/build/build.ts', ['--nope']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/Usage: npm run build/);
  });
});

describe('a bundle runs on its own', () => {
  const fixture = useBroker();
  let lonely: string;

  beforeAll(async () => {
    // An empty folder outside the repository: no node_modules anywhere above it.
    lonely = await mkdtemp(join(tmpdir(), 'rocketmq-lonely-'));
    await copyFile(dist('fc', 'order-confirmation', 'index.js'), join(lonely, 'index.js'));
    await copyFile(dist('aws', 'order-confirmation', 'index.mjs'), join(lonely, 'index.mjs'));
  });
  afterAll(async () => {
    await rm(lonely, { recursive: true, force: true });
  });

  async function invoke(platform: 'fc' | 'aws', file: string, event: string, shape?: 'fc2') {
    const run = await runTs(
      'test/deploy/support/run-bundle.ts',
      [platform, join(lonely, file), join(ROOT, event), ...(shape ? [shape] : [])],
      { ROCKETMQ_ENDPOINTS: fixture.broker.endpoint, POWERTOOLS_LOG_LEVEL: 'SILENT' },
      { cwd: lonely },
    );
    expect(run.code, run.stderr).toBe(0);
    return JSON.parse(run.stdout) as { statusCode: number; body: string };
  }

  it.each([
    ['FC 3.0 HTTP event', 'fc', 'index.js', 'events/fc/http-order.json', undefined],
    ['FC 2.0 request/response', 'fc', 'index.js', 'events/fc/http-order.json', 'fc2'],
    ['Lambda HTTP API', 'aws', 'index.mjs', 'events/aws/apigw-v2-order.json', undefined],
  ] as const)('%s: 200, and the broker stored the order', async (_name, platform, file, event, shape) => {
    const result = await invoke(platform, file, event, shape);
    expect(result.statusCode).toBe(200);
    const { messageId, topic } = JSON.parse(result.body);
    expect(topic).toBe('orders');
    const stored = fixture.broker.messages('orders').find((message) => message.messageId === messageId);
    expect(stored?.keys).toEqual(['ORDERID_1001']);
    expect(JSON.parse(stored?.body.toString() ?? '{}')).toMatchObject({ orderId: '1001' });
  });
});
