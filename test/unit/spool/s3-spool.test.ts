import { afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode, RocketMQError } from '../../../lib/errors.js';
import { type PreparedMessage, validateMessage } from '../../../lib/message.js';
import { MAX_SEGMENT_BYTES, S3Spool, type S3SpoolOptions } from '../../../lib/spool/s3-spool.js';
import { encodeRecord, parseSegment } from '../../../lib/spool/segment.js';
import { FakeS3 } from './fake-s3.js';

/**
 * The object spool's protocol, step by step, over a fake S3 (no server, no broker): what is written
 * in which order, how claims are taken, renewed, and taken over, and what goes to quarantine.
 */

const failure = { code: ErrorCode.UNAVAILABLE, message: 'broker down' };
const SEGMENTS = 'spool/segments/';
const LEASES = 'spool/leases/';
const QUARANTINE = 'spool/quarantine/';

function setup(options: Partial<S3SpoolOptions> & { copy?: boolean } = {}) {
  const s3 = new FakeS3();
  const { copy, ...spoolOptions } = options;
  const sdk = s3.sdk({ copy: copy ?? true });
  const spool = new S3Spool({ url: 's3://bucket/spool', sdk, client: new sdk.S3Client({}), ...spoolOptions });
  return { s3, spool };
}

const message = (n: number): PreparedMessage => validateMessage({ topic: 'orders', body: `body-${n}` });
const text = (sent: PreparedMessage) => sent.body.toString();

/** A sender that records what it was given, failing the bodies named in `fail` with their code. */
function sender(fail: Record<string, ErrorCode> = {}) {
  const sent: string[] = [];
  const send = async (sentMessage: PreparedMessage) => {
    const body = text(sentMessage);
    const code = fail[body];
    if (code) throw new RocketMQError(code, `${body} refused (fake)`);
    sent.push(body);
  };
  return { sent, send };
}

async function appendAll(spool: S3Spool, count: number): Promise<string[]> {
  return Promise.all(Array.from({ length: count }, (_, n) => spool.append(message(n), failure)));
}

const segmentOf = (id: string) => id.split(':')[0] as string;
/** The log without the one-off conditional-write probe. */
const steps = (s3: FakeS3) => s3.log.filter((request) => !request.includes('/probe/'));

afterEach(() => {
  vi.useRealTimers();
});

describe('S3Spool append', () => {
  it('appends of one tick share one PutObject and list back in order, with ids <segment>:<line>', async () => {
    const { s3, spool } = setup();
    const ids = await appendAll(spool, 3);
    const segment = segmentOf(ids[0] as string);
    expect(ids).toEqual([0, 1, 2].map((line) => `${segment}:${line}`));
    expect(s3.log).toEqual([`PUT ${SEGMENTS}${segment}`]);
    expect(spool.requests.put).toBe(1);
    const listed = await spool.list();
    expect(listed.map((record) => record.id)).toEqual(ids);
    expect(listed.map((record) => record.message.body.toString())).toEqual(['body-0', 'body-1', 'body-2']);
    expect(listed.map((record) => record.error)).toEqual([failure, failure, failure]);
  });

  it('a failed PutObject rejects every append of its flush with SPOOL_FAILED naming the spool', async () => {
    const { s3, spool } = setup();
    s3.fault = () =>
      Object.assign(new Error('slow down'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } });
    const results = await Promise.allSettled([
      spool.append(message(0), failure),
      spool.append(message(1), failure),
    ]);
    for (const result of results) {
      expect(result.status).toBe('rejected');
      const error = (result as PromiseRejectedResult).reason as RocketMQError;
      expect(error.code).toBe(ErrorCode.SPOOL_FAILED);
      expect(error.message).toContain('s3://bucket/spool/');
      expect(error.message).toContain('SlowDown (HTTP 503)');
    }
  });
});

describe('S3Spool redelivery: the durability protocol', () => {
  it('claims by a create-only lease, resends, then deletes the segment before its lease', async () => {
    const { s3, spool } = setup();
    const segment = segmentOf((await appendAll(spool, 2))[0] as string);
    s3.log.splice(0);
    const { sent, send } = sender();
    expect(await spool.redeliver(send)).toMatchObject({ delivered: 2, failed: 0, remaining: 0 });
    expect(sent).toEqual(['body-0', 'body-1']);
    const lease = `${LEASES}${segment}/0000000000`;
    expect(steps(s3)).toEqual([
      `LIST ${SEGMENTS}`,
      `LIST ${LEASES}${segment}/`,
      `PUT ${lease}`,
      `GET ${SEGMENTS}${segment}`,
      `DELETE ${SEGMENTS}${segment}`,
      `DELETE ${lease}`,
      `LIST ${QUARANTINE}`,
    ]);
    expect(s3.keys()).toEqual([]);
  });

  it('writes what is left as a new segment before deleting the old one; a broker verdict goes to quarantine', async () => {
    const { s3, spool } = setup();
    const segment = segmentOf((await appendAll(spool, 3))[0] as string);
    const { sent, send } = sender({ 'body-1': ErrorCode.UNAVAILABLE, 'body-2': ErrorCode.TOPIC_NOT_FOUND });
    expect(await spool.redeliver(send)).toMatchObject({ delivered: 1, failed: 1, rejected: 1 });
    expect(sent).toEqual(['body-0']);

    const log = steps(s3);
    const rewritten = log.findIndex((r) => r.startsWith(`PUT ${SEGMENTS}`) && !r.endsWith(segment));
    const deleted = log.indexOf(`DELETE ${SEGMENTS}${segment}`);
    const released = log.indexOf(`DELETE ${LEASES}${segment}/0000000000`);
    expect(rewritten).toBeGreaterThan(-1);
    expect(rewritten).toBeLessThan(deleted);
    expect(deleted).toBeLessThan(released);

    const [kept] = await spool.list();
    expect(kept?.message.body.toString()).toBe('body-1');
    expect(kept).toMatchObject({ redeliveryAttempts: 1, error: { code: ErrorCode.UNAVAILABLE } });
    const [aside] = s3.keys(QUARANTINE);
    const quarantined = parseSegment(s3.objects.get(aside as string)?.body ?? '');
    expect(quarantined.records.map((r) => [r.message.body.toString(), r.error.code])).toEqual([
      ['body-2', ErrorCode.TOPIC_NOT_FOUND],
    ]);
  });

  it('a crash between writing what is left and deleting the segment resends a record twice, never loses one', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { s3, spool } = setup({ leaseMs: 10_000 });
    const segment = segmentOf((await appendAll(spool, 2))[0] as string);
    s3.fault = (request) =>
      request === `DELETE ${SEGMENTS}${segment}` ? new Error('connection reset (fake)') : undefined;
    const first = sender({ 'body-1': ErrorCode.UNAVAILABLE });
    await expect(spool.redeliver(first.send)).rejects.toMatchObject({ code: ErrorCode.SPOOL_FAILED });
    s3.fault = undefined;

    // The old segment (still claimed) and what was left of it are both there.
    const listed = (await spool.list()).map((r) => r.message.body.toString());
    expect(listed.sort()).toEqual(['body-0', 'body-1', 'body-1']);

    // Another instance's spool over the same bucket.
    const sdk = s3.sdk();
    const otherSpool = new S3Spool({ url: 's3://bucket/spool', sdk, client: new sdk.S3Client({}) });
    const again = sender();
    expect(await otherSpool.redeliver(again.send)).toMatchObject({ delivered: 1 });
    expect(again.sent).toEqual(['body-1']);
    // Once the crashed holder's claim expires, the old segment is taken over and finished.
    vi.setSystemTime(Date.now() + 10_001);
    expect(await otherSpool.redeliver(again.send)).toMatchObject({ delivered: 2 });
    expect(again.sent).toEqual(['body-1', 'body-0', 'body-1']);
    expect(s3.keys(SEGMENTS)).toEqual([]);
    expect(s3.keys(LEASES)).toEqual([]);
  });

  it('a live claim of another redeliverer is left alone; an expired one is taken over from its recorded progress', async () => {
    const { s3, spool } = setup();
    const segment = segmentOf((await appendAll(spool, 3))[0] as string);
    const claim = (expiresAt: number) =>
      s3.put(`${LEASES}${segment}/0000000000`, JSON.stringify({ owner: 'elsewhere', expiresAt, done: 2 }));
    claim(Date.now() + 60_000);
    expect((await spool.list()).map((r) => r.message.body.toString())).toEqual(['body-2']);
    const { sent, send } = sender();
    expect(await spool.redeliver(send)).toMatchObject({ delivered: 0 });
    expect(s3.keys(SEGMENTS)).toEqual([`${SEGMENTS}${segment}`]);

    claim(Date.now() - 1);
    expect(await spool.redeliver(send)).toMatchObject({ delivered: 1 });
    expect(sent).toEqual(['body-2']);
    expect(s3.log).toContain(`PUT ${LEASES}${segment}/0000000001`);
    expect(s3.keys()).toEqual([]);
  });

  it('renews its claim past half the lease, each new generation recording the records done', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { s3, spool } = setup({ leaseMs: 1000 });
    const segment = segmentOf((await appendAll(spool, 3))[0] as string);
    const sent: string[] = [];
    // Each resend takes 600 ms of the 1,000 ms lease.
    const slowSend = async (sentMessage: PreparedMessage) => {
      sent.push(text(sentMessage));
      vi.setSystemTime(Date.now() + 600);
    };
    expect(await spool.redeliver(slowSend)).toMatchObject({ delivered: 3 });
    const claims = s3.written.filter((write) => write.key.startsWith(`${LEASES}${segment}/`));
    expect(
      claims.map((write) => [write.key.slice(-1), (JSON.parse(write.body) as { done: number }).done]),
    ).toEqual([
      ['0', 0],
      ['1', 1],
      ['2', 2],
      ['3', 3],
    ]);
    expect(s3.keys()).toEqual([]);
  });

  it('refuses to redeliver from a store that ignores If-None-Match, and claims nothing', async () => {
    const { s3, spool } = setup();
    await appendAll(spool, 1);
    s3.honoursConditions = false;
    const { sent, send } = sender();
    await expect(spool.redeliver(send)).rejects.toMatchObject({ code: ErrorCode.CONFIG_INVALID });
    expect(sent).toEqual([]);
    expect(s3.keys(LEASES)).toEqual([]);
    expect(s3.keys(SEGMENTS)).toHaveLength(1);
  });

  it('stops at the limit: the rest is counted as remaining and left unclaimed', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { s3, spool } = setup();
    s3.pageSize = 1;
    for (const n of [0, 1, 2]) {
      // One segment per append, each a millisecond later, so that key order is append order.
      vi.setSystemTime(Date.now() + 1);
      await spool.append(message(n), failure);
    }
    expect(s3.keys(SEGMENTS)).toHaveLength(3);
    const { sent, send } = sender();
    expect(await spool.redeliver(send, { limit: 1 })).toMatchObject({ delivered: 1, remaining: 2 });
    expect(sent).toEqual(['body-0']);
    expect(s3.keys(LEASES)).toEqual([]);
    expect((await spool.list()).map((r) => r.message.body.toString())).toEqual(['body-1', 'body-2']);
  });
});

describe('S3Spool quarantine', () => {
  const record = (n: number) =>
    encodeRecord({ message: message(n), error: failure, spooledAt: 1, redeliveryAttempts: 0 });

  it('a segment with a corrupt line is copied to quarantine as it was; its good records are resent', async () => {
    const { s3, spool } = setup();
    const original = `${record(0)}00000000 not a record\n${record(1)}`;
    s3.put(`${SEGMENTS}000000000000001-aaaaaaaaaaaa.seg`, original);
    const { sent, send } = sender();
    expect(await spool.redeliver(send)).toMatchObject({ delivered: 2, quarantined: 1 });
    expect(sent).toEqual(['body-0', 'body-1']);
    expect(s3.objects.get(`${QUARANTINE}000000000000001-aaaaaaaaaaaa.seg`)?.body).toBe(original);
    expect(s3.keys(SEGMENTS)).toEqual([]);
  });

  it('an oversized segment is moved by a server-side copy with the reason, never read', async () => {
    const { s3, spool } = setup();
    const name = '000000000000002-bbbbbbbbbbbb.seg';
    s3.put(`${SEGMENTS}${name}`, 'x'.repeat(MAX_SEGMENT_BYTES + 1));
    const { sent, send } = sender();
    expect(await spool.redeliver(send)).toMatchObject({ delivered: 0, quarantined: 1 });
    expect(sent).toEqual([]);
    expect(s3.log).not.toContain(`GET ${SEGMENTS}${name}`);
    expect(s3.log).toContain(`COPY ${QUARANTINE}${name}`);
    expect(s3.objects.get(`${QUARANTINE}${name}`)?.metadata?.['rocketmq-error']).toMatch(
      /^MESSAGE_INVALID: /,
    );
    expect(s3.keys(SEGMENTS)).toEqual([]);
    expect(s3.keys(LEASES)).toEqual([]);
  });

  it('without CopyObjectCommand an oversized segment stays where it is, unread', async () => {
    const { s3, spool } = setup({ copy: false });
    const name = '000000000000003-cccccccccccc.seg';
    s3.put(`${SEGMENTS}${name}`, 'x'.repeat(MAX_SEGMENT_BYTES + 1));
    expect(await spool.redeliver(sender().send)).toMatchObject({ quarantined: 0 });
    expect(s3.log).not.toContain(`GET ${SEGMENTS}${name}`);
    expect(s3.keys(SEGMENTS)).toEqual([`${SEGMENTS}${name}`]);
  });

  it('keeps at most quarantineMaxObjects, the newest, and nothing older than quarantineMaxAgeMs', async () => {
    const { s3, spool } = setup({ quarantineMaxObjects: 2, quarantineMaxAgeMs: 60_000 });
    const now = Date.now();
    s3.put(`${QUARANTINE}a`, 'a', now - 3000);
    s3.put(`${QUARANTINE}b`, 'b', now - 1000);
    s3.put(`${QUARANTINE}c`, 'c', now - 2000);
    s3.put(`${QUARANTINE}old`, 'old', now - 120_000);
    await spool.redeliver(sender().send);
    expect(s3.keys(QUARANTINE)).toEqual([`${QUARANTINE}b`, `${QUARANTINE}c`]);
  });
});
