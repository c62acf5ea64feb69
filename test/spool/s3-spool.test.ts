import { inspect } from 'node:util';
import { crc32 } from 'node:zlib';
import {
  DeleteObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, type SendFailure, validateMessage } from '../../lib/index.js';
import type { PreparedMessage } from '../../lib/message.js';
import { MAX_SEGMENT_BYTES, parseS3Url, S3Spool, type S3SpoolOptions } from '../../lib/spool/s3-spool.js';
import { encodeRecord } from '../../lib/spool/segment.js';
import { useBroker } from '../support/broker-fixture.js';
import { clientOptions, type S3Server, startS3Server } from './support/s3-server.js';

/** The object-storage spool against s3rver on loopback, resending through the embedded broker. */

const fixture = useBroker();
const failure = { code: ErrorCode.UNAVAILABLE, message: 'broker down' };
let server: S3Server;
let client: S3Client;
let serial = 0;

beforeAll(async () => {
  server = await startS3Server();
  client = new S3Client({ ...clientOptions(server), requestChecksumCalculation: 'WHEN_REQUIRED' });
});
afterAll(async () => {
  client.destroy();
  await server.stop();
});
afterEach(() => {
  server.reset();
});

function spoolFor(options: Partial<S3SpoolOptions> = {}): S3Spool {
  return new S3Spool({ url: `s3://${server.bucket}/t${++serial}`, ...clientOptions(server), ...options });
}

function message(n: number): PreparedMessage {
  return validateMessage({
    topic: 'orders',
    keys: [`ORDERID_${n}`],
    properties: { n: String(n) },
    body: `body-${n}`,
  });
}

async function keysUnder(prefix: string): Promise<string[]> {
  const listed = await client.send(new ListObjectsV2Command({ Bucket: server.bucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((entry) => entry.Key as string);
}

async function put(key: string, body: string): Promise<void> {
  await client.send(new PutObjectCommand({ Bucket: server.bucket, Key: key, Body: body }));
}

/** A segment line for a record shaped by hand, checksum included: what a hostile writer could plant. */
function line(json: string): string {
  return `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
}

describe('S3Spool', () => {
  it('failed async sends are spooled as objects, listed, and redelivered through the broker', async () => {
    const spool = spoolFor();
    const producer = fixture.producerFor({ spool, sendTimeoutMs: 1000, retry: { maxAttempts: 1 } });
    await producer.send({ topic: 'orders', body: 'warm-up' });
    fixture.broker.faults.failNextSends(20, 50001);
    const failures: SendFailure[] = [];
    for (let i = 0; i < 20; i++) {
      producer.sendAsync(
        { topic: 'orders', tag: 'S3Spooled', keys: [`S3_${i}`], body: { i } },
        { onSuccess: () => expect.unreachable(), onException: (f) => failures.push(f) },
      );
    }
    await producer.drain();
    expect(failures.map((f) => f.spooled)).toEqual(Array(20).fill(true));
    const listed = await spool.list();
    expect(listed.map((record) => record.message.keys[0]).sort()).toEqual(
      Array.from({ length: 20 }, (_, i) => `S3_${i}`).sort(),
    );
    expect(listed.every((record) => /^\d{15}-[0-9a-f]{12}\.seg:\d+$/.test(record.id))).toBe(true);

    const report = await producer.redeliverSpool();
    expect(report).toEqual({ delivered: 20, failed: 0, rejected: 0, quarantined: 0, remaining: 0 });
    const stored = fixture.broker.messages('orders').filter((m) => m.tag === 'S3Spooled');
    expect(stored.map((m) => m.keys[0]).sort()).toEqual(
      listed.map((record) => record.message.keys[0]).sort(),
    );
    expect(JSON.parse(stored[0]?.body.toString() ?? '')).toHaveProperty('i');
    expect(await spool.list()).toEqual([]);
    expect(await keysUnder(`${spool.prefix}segments/`)).toEqual([]);
    expect(await keysUnder(`${spool.prefix}leases/`)).toEqual([]);
  });

  it('group commit: 1,000 concurrent appends are one PutObject, records in order', async () => {
    const spool = spoolFor();
    const ids = await Promise.all(Array.from({ length: 1000 }, (_, n) => spool.append(message(n), failure)));
    expect(new Set(ids).size).toBe(1000);
    expect(server.requests.get('PUT segments')).toBe(1);
    expect((await spool.list()).map((r) => r.message.keys[0])).toEqual(
      Array.from({ length: 1000 }, (_, n) => `ORDERID_${n}`),
    );
    expect(spool.flushEstimateMs).toBeGreaterThan(0);
  });

  it('appends made while a flush is under way share the next PutObject', async () => {
    const spool = spoolFor();
    const first = spool.append(message(0), failure);
    await new Promise((resolve) => setImmediate(resolve));
    const rest = Array.from({ length: 300 }, (_, n) => spool.append(message(n + 1), failure));
    await Promise.all([first, ...rest]);
    expect(server.requests.get('PUT segments')).toBeLessThanOrEqual(3);
    expect(await spool.list()).toHaveLength(301);
  });

  it('a full store (507) or a failing one (500) fails the appends with SPOOL_FAILED; nothing reported spooled is missing', async () => {
    const spool = spoolFor();
    const kept = await Promise.all([1, 2, 3].map((n) => spool.append(message(n), failure)));
    for (const [status, code] of [
      [507, 'InsufficientStorage'],
      [500, 'InternalError'],
    ] as const) {
      server.failPuts(status, code, '/segments/');
      const outcomes = await Promise.allSettled([4, 5, 6].map((n) => spool.append(message(n), failure)));
      for (const outcome of outcomes) {
        expect(outcome.status).toBe('rejected');
        const reason = (outcome as PromiseRejectedResult).reason;
        expect(reason).toMatchObject({ code: ErrorCode.SPOOL_FAILED, topic: 'orders' });
        expect(String(reason.message)).toContain(`HTTP ${status}`);
        expect(String(reason.message)).toContain(spool.location);
      }
      server.reset();
    }
    expect((await spool.list()).map((record) => record.id)).toEqual(kept);
  });

  it('with a failing store, the producer reports failed async sends as not spooled, and those it spooled are all there', async () => {
    const spool = spoolFor();
    const producer = fixture.producerFor({ spool, sendTimeoutMs: 1000, retry: { maxAttempts: 1 } });
    await producer.send({ topic: 'orders', body: 'warm-up' });
    const spooled: string[] = [];
    const notSpooled: string[] = [];
    const burst = async (from: number) => {
      fixture.broker.faults.failNextSends(10, 50001);
      for (let i = from; i < from + 10; i++) {
        producer.sendAsync(
          { topic: 'orders', keys: [`MIX_${i}`], body: 'x' },
          {
            onSuccess: () => expect.unreachable(),
            onException: (f) => (f.spooled ? spooled : notSpooled).push(`MIX_${i}`),
          },
        );
      }
      await producer.drain();
    };
    await burst(0);
    server.failPuts(503, 'ServiceUnavailable', '/segments/');
    await burst(10);
    server.reset();
    expect(spooled).toHaveLength(10);
    expect(notSpooled).toHaveLength(10);
    const listed = (await spool.list()).map((record) => record.message.keys[0]);
    expect(listed.sort()).toEqual([...spooled].sort());
  });

  it('an unreachable store: appends and redelivery fail with SPOOL_FAILED, naming the spool', async () => {
    const spool = new S3Spool({
      url: 's3://spool/unreachable',
      ...clientOptions(server),
      endpoint: 'http://127.0.0.1:9',
    });
    const appended = spool.append(message(1), failure);
    await expect(appended).rejects.toMatchObject({ code: ErrorCode.SPOOL_FAILED, topic: 'orders' });
    await expect(appended).rejects.toThrow(/s3:\/\/spool\/unreachable\//);
    await expect(spool.redeliver(async () => expect.unreachable())).rejects.toMatchObject({
      code: ErrorCode.SPOOL_FAILED,
    });
    await expect(spool.list()).rejects.toMatchObject({ code: ErrorCode.SPOOL_FAILED });
  });

  it('refuses to redeliver from a store that ignores If-None-Match, sending nothing', async () => {
    const plain = await startS3Server({ conditionalWrites: false });
    try {
      const spool = new S3Spool({ url: `s3://${plain.bucket}/plain`, ...clientOptions(plain) });
      await spool.append(message(1), failure);
      const sent: PreparedMessage[] = [];
      await expect(
        spool.redeliver(async (m) => {
          sent.push(m);
        }),
      ).rejects.toMatchObject({
        code: ErrorCode.CONFIG_INVALID,
        message: expect.stringMatching(/If-None-Match/),
      });
      expect(sent).toEqual([]);
      expect(await spool.list()).toHaveLength(1);
    } finally {
      await plain.stop();
    }
  });

  it('a failing store during redelivery is SPOOL_FAILED and loses nothing', async () => {
    const spool = spoolFor();
    await Promise.all([1, 2, 3].map((n) => spool.append(message(n), failure)));
    server.failPuts(500, 'InternalError', '/leases/');
    const sent: PreparedMessage[] = [];
    await expect(
      spool.redeliver(async (m) => {
        sent.push(m);
      }),
    ).rejects.toMatchObject({ code: ErrorCode.SPOOL_FAILED });
    expect(sent).toEqual([]);
    server.reset();
    expect(await spool.list()).toHaveLength(3);
    expect(await spool.redeliver(async () => undefined)).toMatchObject({ delivered: 3 });
  });

  it('hostile content: invalid messages, garbage and torn lines are quarantined once, never sent', async () => {
    await put('outside/keep.txt', 'not the spool');
    const spool = spoolFor();
    const segments = `${spool.prefix}segments/`;
    const outsideBefore = (await keysUnder('')).filter((key) => !key.startsWith(spool.prefix));
    const good = encodeRecord({ message: message(1), error: failure, spooledAt: 1, redeliveryAttempts: 0 });
    const bad = (overrides: Partial<PreparedMessage>) =>
      encodeRecord({
        message: { ...message(9), ...overrides },
        error: failure,
        spooledAt: 1,
        redeliveryAttempts: 0,
      });
    const notBase64 = line(
      JSON.stringify({
        v: 2,
        spooledAt: 1,
        redeliveryAttempts: 0,
        error: failure,
        message: { topic: 'orders', keys: ['B64'], properties: {}, body: '!!not base64!!' },
      }),
    );
    await put(
      `${segments}000000000000001-aaaaaaaaaaaa.seg`,
      [
        good,
        bad({ properties: { UNIQ_KEY: 'forged-id' } }),
        bad({ keys: ['has space'] }),
        bad({ topic: '../../etc' }),
        notBase64,
      ].join(''),
    );
    await put(`${segments}000000000000002-bbbbbbbbbbbb.seg`, 'garbage that is no segment at all\n');
    await put(`${segments}000000000000003-cccccccccccc.seg`, `${good}${good.slice(0, 30)}`);
    const sent: string[] = [];
    const report = await spool.redeliver(async (m) => {
      sent.push(m.keys[0] as string);
    });
    // One good record in each of two segments; three invalid messages; two damaged objects.
    expect(sent).toEqual(['ORDERID_1', 'ORDERID_1']);
    expect(report).toEqual({ delivered: 2, failed: 0, rejected: 0, quarantined: 3 + 3, remaining: 0 });
    expect(await spool.list()).toEqual([]);
    const quarantine = await keysUnder(`${spool.prefix}quarantine/`);
    expect(quarantine).toHaveLength(4);
    expect(await spool.redeliver(async () => expect.unreachable())).toEqual({
      delivered: 0,
      failed: 0,
      rejected: 0,
      quarantined: 0,
      remaining: 0,
    });
    // Nothing outside the spool's prefix was written or deleted.
    expect((await keysUnder('')).filter((key) => !key.startsWith(spool.prefix))).toEqual(outsideBefore);
  });

  it('an object bigger than a segment can be is quarantined once by a copy, never read or sent', async () => {
    const spool = spoolFor();
    const segments = `${spool.prefix}segments/`;
    const good = encodeRecord({ message: message(1), error: failure, spooledAt: 1, redeliveryAttempts: 0 });
    // Valid records all the way: were it read and parsed, its records would be sent.
    const huge = good.repeat(Math.ceil((MAX_SEGMENT_BYTES + 1024 * 1024) / good.length));
    const hugeName = '000000000000001-dddddddddddd.seg';
    await put(`${segments}${hugeName}`, huge);
    await put(`${segments}000000000000002-eeeeeeeeeeee.seg`, good);
    expect((await spool.list()).map((record) => record.id)).toEqual(['000000000000002-eeeeeeeeeeee.seg:0']);
    server.reset();
    const sent: string[] = [];
    const report = await spool.redeliver(async (m) => {
      sent.push(m.keys[0] as string);
    });
    expect(sent).toEqual(['ORDERID_1']);
    expect(report).toEqual({ delivered: 1, failed: 0, rejected: 0, quarantined: 1, remaining: 0 });
    // The one segment GET was the small segment's: the oversized object was never downloaded.
    expect(server.requests.get('GET segments')).toBe(1);
    expect(await keysUnder(segments)).toEqual([]);
    const head = await client.send(
      new HeadObjectCommand({ Bucket: server.bucket, Key: `${spool.prefix}quarantine/${hugeName}` }),
    );
    expect(head.ContentLength).toBe(Buffer.byteLength(huge));
    expect(head.Metadata?.['rocketmq-error']).toMatch(
      new RegExp(
        `^MESSAGE_INVALID: segment of ${Buffer.byteLength(huge)} bytes is larger than the ${MAX_SEGMENT_BYTES}`,
      ),
    );
    expect(await spool.redeliver(async () => expect.unreachable())).toEqual({
      delivered: 0,
      failed: 0,
      rejected: 0,
      quarantined: 0,
      remaining: 0,
    });
    expect(await keysUnder(`${spool.prefix}quarantine/`)).toEqual([`${spool.prefix}quarantine/${hugeName}`]);
  });

  it('a live claim held by another instance is left alone; an expired one is taken over from its progress', async () => {
    const spool = spoolFor({ leaseMs: 60_000 });
    await Promise.all([1, 2, 3, 4].map((n) => spool.append(message(n), failure)));
    const [record] = await spool.list();
    const segment = String(record?.id).split(':')[0] as string;
    const leaseKey = (generation: number) =>
      `${spool.prefix}leases/${segment}/${String(generation).padStart(10, '0')}`;
    await put(leaseKey(0), JSON.stringify({ owner: 'elsewhere', expiresAt: Date.now() + 60_000, done: 0 }));
    const other = new S3Spool({ url: `s3://${server.bucket}/${spool.prefix}`, ...clientOptions(server) });
    expect(await other.redeliver(async () => expect.unreachable())).toMatchObject({ delivered: 0 });
    expect(await other.list()).toHaveLength(4);

    // The holder died after delivering two; its claim has expired.
    await client.send(new DeleteObjectCommand({ Bucket: server.bucket, Key: leaseKey(0) }));
    await put(leaseKey(0), JSON.stringify({ owner: 'elsewhere', expiresAt: Date.now() - 1, done: 2 }));
    expect((await other.list()).map((r) => r.message.keys[0])).toEqual(['ORDERID_3', 'ORDERID_4']);
    const sent: string[] = [];
    expect(
      await other.redeliver(async (m) => {
        sent.push(m.keys[0] as string);
      }),
    ).toMatchObject({ delivered: 2 });
    expect(sent).toEqual(['ORDERID_3', 'ORDERID_4']);
    expect(await keysUnder(`${spool.prefix}leases/`)).toEqual([]);
    expect(await other.list()).toEqual([]);
  });

  it('two concurrent redeliveries in one process send each record once', async () => {
    const spool = spoolFor();
    for (let s = 0; s < 3; s++) {
      await Promise.all(Array.from({ length: 100 }, (_, n) => spool.append(message(s * 100 + n), failure)));
    }
    const twin = new S3Spool({ url: `s3://${server.bucket}/${spool.prefix}`, ...clientOptions(server) });
    const sent: string[] = [];
    const send = async (m: PreparedMessage) => {
      await new Promise((resolve) => setImmediate(resolve));
      sent.push(m.keys[0] as string);
    };
    await Promise.all([spool.redeliver(send), spool.redeliver(send), twin.redeliver(send)]);
    // A segment the twin found claimed is still there for a later call.
    await spool.redeliver(send);
    expect(sent).toHaveLength(300);
    expect(new Set(sent).size).toBe(300);
    expect(await spool.list()).toEqual([]);
  });

  it('stops at the limit and the deadline, leaving the rest for the next call', async () => {
    const spool = spoolFor();
    await Promise.all([1, 2, 3].map((n) => spool.append(message(n), failure)));
    await spool.append(message(4), failure);
    expect(await spool.redeliver(async () => undefined, { limit: 1 })).toMatchObject({
      delivered: 1,
      remaining: 3,
    });
    expect(await spool.redeliver(async () => undefined, { deadline: Date.now() - 1 })).toMatchObject({
      delivered: 0,
      remaining: 3,
    });
    expect((await spool.list()).map((r) => r.message.keys[0]).sort()).toEqual([
      'ORDERID_2',
      'ORDERID_3',
      'ORDERID_4',
    ]);
    expect(await spool.redeliver(async () => undefined)).toMatchObject({ delivered: 3, remaining: 0 });
    expect(await keysUnder(`${spool.prefix}leases/`)).toEqual([]);
  });

  it('quarantine keeps at most quarantineMaxObjects objects', async () => {
    const spool = spoolFor({ quarantineMaxObjects: 2 });
    for (const n of [1, 2, 3, 4])
      await put(`${spool.prefix}segments/00000000000000${n}-ffffffffffff.seg`, 'junk\n');
    expect(await spool.redeliver(async () => undefined)).toMatchObject({ quarantined: 4 });
    expect(await keysUnder(`${spool.prefix}quarantine/`)).toHaveLength(2);
  });

  it('ROCKETMQ_SPOOL_URL gives a producer an object spool, which wins over ROCKETMQ_SPOOL_DIR', async () => {
    const saved = { url: process.env.ROCKETMQ_SPOOL_URL, dir: process.env.ROCKETMQ_SPOOL_DIR };
    process.env.ROCKETMQ_SPOOL_URL = `s3://${server.bucket}/from-env`;
    process.env.ROCKETMQ_SPOOL_DIR = '/nonexistent/never-used';
    process.env.ROCKETMQ_SPOOL_S3_ENDPOINT = server.endpoint;
    process.env.ROCKETMQ_SPOOL_S3_PATH_STYLE = 'true';
    process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
    try {
      const producer = fixture.producerFor();
      expect(producer.spool).toBeInstanceOf(S3Spool);
      expect((producer.spool as S3Spool).location).toBe(`s3://${server.bucket}/from-env/`);
      const id = await producer.spool?.append(message(1), failure);
      expect(id).toMatch(/\.seg:0$/);
      expect(await keysUnder('from-env/segments/')).toHaveLength(1);
    } finally {
      for (const name of [
        'ROCKETMQ_SPOOL_S3_ENDPOINT',
        'ROCKETMQ_SPOOL_S3_PATH_STYLE',
        'AWS_ACCESS_KEY_ID',
        'AWS_SECRET_ACCESS_KEY',
      ]) {
        delete process.env[name];
      }
      if (saved.url === undefined) delete process.env.ROCKETMQ_SPOOL_URL;
      else process.env.ROCKETMQ_SPOOL_URL = saved.url;
      if (saved.dir === undefined) delete process.env.ROCKETMQ_SPOOL_DIR;
      else process.env.ROCKETMQ_SPOOL_DIR = saved.dir;
    }
  });

  it('configuration: s3:// URLs only, a clear error without one, no credentials in what it shows', () => {
    expect(parseS3Url('s3://my-bucket/a/b/')).toEqual({ bucket: 'my-bucket', prefix: 'a/b/' });
    expect(parseS3Url('s3://my-bucket')).toEqual({ bucket: 'my-bucket', prefix: '' });
    for (const url of ['http://bucket/x', 's3://B/x', 's3://bucket/../x']) {
      expect(() => parseS3Url(url)).toThrow(expect.objectContaining({ code: ErrorCode.CONFIG_INVALID }));
    }
    const saved = process.env.ROCKETMQ_SPOOL_URL;
    delete process.env.ROCKETMQ_SPOOL_URL;
    try {
      expect(() => new S3Spool()).toThrow(expect.objectContaining({ code: ErrorCode.CONFIG_INVALID }));
    } finally {
      if (saved !== undefined) process.env.ROCKETMQ_SPOOL_URL = saved;
    }
    const spool = new S3Spool({
      url: 's3://bucket/p',
      credentials: { accessKeyId: 'AKIDSECRETLOOKING', secretAccessKey: 'very-secret-value' },
    });
    const shown = `${JSON.stringify(spool)} ${inspect(spool, { depth: 5 })}`;
    expect(shown).not.toContain('very-secret-value');
    expect(shown).not.toContain('AKIDSECRETLOOKING');
  });
});
