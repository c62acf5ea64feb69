import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundle } from '../../infra/build/bundle.js';
import { useBroker } from '../support/broker-fixture.js';
import { runTs } from './support/run-cli.js';

/** A function that only sends, bundled for the lean transport, carries none of the official client. */

const ROOT = resolve(import.meta.dirname, '..', '..');
const ENTRY = join(ROOT, 'functions', 'order-confirmation');
const OFFICIAL_PACKAGES =
  /(^|\/)node_modules\/(@grpc\/grpc-js|@grpc\/proto-loader|google-protobuf|rocketmq-client-nodejs)\//;

const official = (metafile: Metafile) =>
  Object.keys(metafile.inputs).filter((input) => OFFICIAL_PACKAGES.test(input.replaceAll('\\', '/')));

const fixture = useBroker();
let outDir: string;
const built: Record<string, { metafile: Metafile; outFile: string }> = {};

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'rocketmq-transport-bundle-'));
  const jobs = [
    ['fc-lean', 'fc.ts', 'index.js', 'cjs', 'lean'],
    ['aws-lean', 'aws.ts', 'index.mjs', 'esm', 'lean'],
    ['fc-official', 'fc.ts', 'index.js', 'cjs', 'official'],
  ] as const;
  await Promise.all(
    jobs.map(async ([name, entry, file, format, transport]) => {
      built[name] = await bundle({
        entry: join(ENTRY, entry),
        outFile: join(outDir, name, file),
        format,
        transport,
      });
    }),
  );
}, 60_000);

afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

describe('order-confirmation bundled for the lean transport', () => {
  it.each(['fc-lean', 'aws-lean'])(
    '%s has no grpc-js, google-protobuf or rocketmq-client-nodejs input',
    (name) => {
      const inputs = Object.keys(built[name]?.metafile.inputs ?? {});
      expect(inputs.some((input) => input.includes('lib/transport/lean/'))).toBe(true);
      expect(official(built[name]?.metafile as Metafile)).toEqual([]);
    },
  );

  it('bundled for the official transport, it does carry them (the check sees them)', () => {
    const found = official(built['fc-official']?.metafile as Metafile);
    for (const name of ['@grpc/grpc-js', 'google-protobuf', 'rocketmq-client-nodejs']) {
      expect(found.some((input) => input.includes(`node_modules/${name}/`))).toBe(true);
    }
  });

  async function invoke(transport: string, logLevel = 'SILENT') {
    const lonely = await mkdtemp(join(tmpdir(), 'rocketmq-lean-lonely-'));
    try {
      await copyFile(built['fc-lean']?.outFile as string, join(lonely, 'index.js'));
      const run = await runTs(
        'test/deploy/support/run-bundle.ts',
        ['fc', join(lonely, 'index.js'), join(ROOT, 'events/fc/http-order.json')],
        {
          ROCKETMQ_ENDPOINTS: fixture.broker.endpoint,
          ROCKETMQ_TRANSPORT: transport,
          POWERTOOLS_LOG_LEVEL: logLevel,
        },
        { cwd: lonely },
      );
      return run;
    } finally {
      await rm(lonely, { recursive: true, force: true });
    }
  }

  it('runs on its own and sends', async () => {
    const run = await invoke('lean');
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { statusCode: number; body: string };
    expect(result.statusCode).toBe(200);
    const { messageId } = JSON.parse(result.body);
    expect(fixture.broker.messages('orders').some((message) => message.messageId === messageId)).toBe(true);
  });

  it('asked for the official transport, it says the client was left out of the bundle', async () => {
    const run = await invoke('official', 'ERROR');
    expect(run.stdout).toMatch(/"statusCode":500/);
    expect(run.stdout).toMatch(/CONFIG_INVALID/);
    // The reason reaches the function's error log, not the HTTP caller.
    expect(run.stderr).toMatch(/built without the official RocketMQ client/);
  });
});
