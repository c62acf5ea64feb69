import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, validateMessage } from '../../lib/index.js';
import type { PreparedMessage } from '../../lib/message.js';
import { FileSpool } from '../../lib/spool/file-spool.js';
import { S3Spool } from '../../lib/spool/s3-spool.js';
import type { Spool } from '../../lib/spool/spool.js';
import { clientOptions, type S3Server, startS3Server } from '../spool/support/s3-server.js';
import { useBroker } from '../support/broker-fixture.js';

/**
 * spool-redeliver, invoked as each platform calls it (infra/invoke.ts in a child process, with the sample
 * events), against the embedded broker: a file spool and an object spool on s3rver, each holding records
 * spooled beforehand, are drained into the broker.
 */

const ROOT = resolve(import.meta.dirname, '..', '..');
const fixture = useBroker();
const failure = { code: ErrorCode.UNAVAILABLE, message: 'broker down' };
let server: S3Server;
let scratch: string;

beforeAll(async () => {
  server = await startS3Server();
  scratch = await mkdtemp(join(tmpdir(), 'spool-redeliver-'));
});
afterAll(async () => {
  await server?.stop();
  await rm(scratch, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function invoke(platform: 'fc' | 'aws', env: Record<string, string>): Promise<Run> {
  const event = join(ROOT, 'events', platform, 'spool-redeliver.json');
  const clean = { ...process.env };
  for (const name of Object.keys(clean)) if (name.startsWith('ROCKETMQ_SPOOL')) delete clean[name];
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'infra/invoke.ts', '-f', 'spool-redeliver', '-p', event, '--platform', platform],
      {
        cwd: ROOT,
        env: { ...clean, ROCKETMQ_ENDPOINTS: fixture.broker.endpoint, ...env },
        timeout: 90_000,
      },
      (error, stdout, stderr) => done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function message(key: string): PreparedMessage {
  return validateMessage({ topic: 'orders', tag: 'Spooled', keys: [key], body: { key } });
}

/** Spools `count` valid records and one that is no longer a valid message (a forged UNIQ_KEY). */
async function fill(spool: Spool, prefix: string, count: number): Promise<string[]> {
  const keys = Array.from({ length: count }, (_, i) => `${prefix}_${i}`);
  await Promise.all([
    ...keys.map((key) => spool.append(message(key), failure)),
    spool.append({ ...message(`${prefix}_FORGED`), properties: { UNIQ_KEY: 'forged' } }, failure),
  ]);
  return keys;
}

const storedKeys = (prefix: string) =>
  fixture.broker
    .messages('orders')
    .flatMap((m) => m.keys)
    .filter((key) => key.startsWith(`${prefix}_`))
    .sort();

const s3Env = (url: string) => ({
  ROCKETMQ_SPOOL_URL: url,
  ROCKETMQ_SPOOL_S3_ENDPOINT: server.endpoint,
  ROCKETMQ_SPOOL_S3_PATH_STYLE: 'true',
  ROCKETMQ_SPOOL_S3_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
});

describe('spool-redeliver', () => {
  for (const platform of ['fc', 'aws'] as const) {
    it(`${platform}: drains a file spool into the broker, each record once, and quarantines the invalid one`, async () => {
      const dir = join(scratch, `files-${platform}`);
      const spool = new FileSpool({ dir });
      const prefix = `FILE_${platform.toUpperCase()}`;
      const keys = await fill(spool, prefix, 25);
      expect(await spool.list()).toHaveLength(26);

      const run = await invoke(platform, { ROCKETMQ_SPOOL_DIR: dir });
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual({
        delivered: 25,
        failed: 0,
        quarantined: 1,
        left: 0,
        spool: dir,
      });
      expect(storedKeys(prefix)).toEqual([...keys].sort());
      expect(await spool.list()).toEqual([]);
    }, 120_000);

    it(`${platform}: drains an object spool on s3rver that another instance filled`, async () => {
      const url = `s3://${server.bucket}/fn-${platform}`;
      const spool = new S3Spool({ url, ...clientOptions(server) });
      const prefix = `S3_${platform.toUpperCase()}`;
      const keys = await fill(spool, prefix, 40);
      expect(await spool.list()).toHaveLength(41);

      const run = await invoke(platform, s3Env(url));
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual({
        delivered: 40,
        failed: 0,
        quarantined: 1,
        left: 0,
        spool: `${url}/`,
      });
      expect(storedKeys(prefix)).toEqual([...keys].sort());
      expect(await spool.list()).toEqual([]);

      // Run again: nothing left to send, nothing sent twice.
      const again = await invoke(platform, s3Env(url));
      expect(again.code, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject({ delivered: 0, quarantined: 0, left: 0 });
      expect(storedKeys(prefix)).toEqual([...keys].sort());
    }, 180_000);
  }

  it('the broker refusing every send leaves the records in the spool, counted as failed and left', async () => {
    const url = `s3://${server.bucket}/fn-down`;
    const spool = new S3Spool({ url, ...clientOptions(server) });
    const keys = Array.from({ length: 5 }, (_, i) => `DOWN_${i}`);
    await Promise.all(keys.map((key) => spool.append(message(key), failure)));
    // Closed for good: an endpoint nothing listens on.
    const run = await invoke('fc', {
      ...s3Env(url),
      ROCKETMQ_ENDPOINTS: '127.0.0.1:1',
      ROCKETMQ_SEND_TIMEOUT_MS: '500',
    });
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.delivered).toBe(0);
    expect(result.left).toBe(5);
    // Nothing lost. The write-back of what a redelivery kept and the removal of the old copy are not one
    // step, so an instance ending between them may keep a record twice (the preStop hook waits for it:
    // test/unit/platforms/fc.test.ts); the spool promises never to lose one.
    const listed = (await spool.list()).map((record) => record.message.keys[0]);
    expect([...new Set(listed)].sort()).toEqual(keys);
    expect(storedKeys('DOWN')).toEqual([]);
  }, 120_000);
});
