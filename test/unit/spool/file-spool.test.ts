import { fdatasyncSync, readFileSync } from 'node:fs';
import {
  chmod,
  chown,
  copyFile,
  lstat,
  mkdir,
  mkdtemp,
  open,
  readdir,
  readFile,
  rename,
  rm,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileSpool } from '../../../lib/entries/spool.js';
import { ErrorCode, RocketMQError, validateMessage } from '../../../lib/index.js';
import type { PreparedMessage } from '../../../lib/message.js';
import type { SpoolFileSystem } from '../../../lib/spool/file-spool.js';
import { encodeRecord, parseSegment } from '../../../lib/spool/segment.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spool-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const failure = { code: ErrorCode.UNAVAILABLE, message: 'broker down' };

function message(n: number): PreparedMessage {
  return validateMessage({
    topic: 'orders',
    tag: 'OrderCreated',
    keys: [`ORDERID_${n}`],
    properties: { n: String(n) },
    body: Buffer.from([0, 255, n]),
  });
}

describe('FileSpool', () => {
  it('keeps the whole message and the error, oldest first', async () => {
    const spool = new FileSpool({ dir });
    await spool.append(message(1), failure);
    await spool.append(message(2), failure);
    const records = await spool.list();
    expect(records.map((r) => r.message.keys[0])).toEqual(['ORDERID_1', 'ORDERID_2']);
    expect(records[0]?.message).toMatchObject({
      topic: 'orders',
      tag: 'OrderCreated',
      properties: { n: '1' },
    });
    expect([...(records[0]?.message.body ?? [])]).toEqual([0, 255, 1]);
    expect(records[0]?.error).toEqual(failure);
  });

  it('redelivers, removing only what was acknowledged', async () => {
    const spool = new FileSpool({ dir });
    for (const n of [1, 2, 3]) await spool.append(message(n), failure);
    const sent: string[] = [];
    const report = await spool.redeliver(async (m) => {
      if (m.keys[0] === 'ORDERID_2') throw new RocketMQError(ErrorCode.TIMEOUT, 'still down');
      sent.push(m.keys[0] as string);
    });
    expect(report).toEqual({ delivered: 2, failed: 1, rejected: 0, quarantined: 0, remaining: 0 });
    expect(sent).toEqual(['ORDERID_1', 'ORDERID_3']);
    const left = await spool.list();
    expect(left.map((r) => r.message.keys[0])).toEqual(['ORDERID_2']);
    expect(left[0]).toMatchObject({ redeliveryAttempts: 1, error: { code: ErrorCode.TIMEOUT } });
  });

  it('moves records the broker refuses for good to quarantine, keeping the error', async () => {
    const spool = new FileSpool({ dir });
    await spool.append(message(1), failure);
    await spool.append(message(2), failure);
    const report = await spool.redeliver(async (m) => {
      if (m.keys[0] === 'ORDERID_1') throw new RocketMQError(ErrorCode.TOPIC_NOT_FOUND, 'no such topic');
    });
    expect(report).toMatchObject({ delivered: 1, failed: 0, rejected: 1 });
    expect(await spool.list()).toEqual([]);
    const [kept] = await readdir(join(dir, 'quarantine'));
    const { records, corrupt } = parseSegment(
      await readFile(join(dir, 'quarantine', kept as string), 'utf8'),
    );
    expect(corrupt).toBe(0);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ error: { code: 'TOPIC_NOT_FOUND' }, redeliveryAttempts: 1 });
    expect(records[0]?.message.keys).toEqual(['ORDERID_1']);
  });

  it('keeps every record when the sender shuts down mid-redelivery, and quarantines only broker verdicts', async () => {
    const spool = new FileSpool({ dir });
    for (const n of [1, 2, 3, 4]) await spool.append(message(n), failure);
    let calls = 0;
    const report = await spool.redeliver(async () => {
      calls++;
      if (calls === 1) throw new RocketMQError(ErrorCode.UNKNOWN, 'something odd');
      throw new RocketMQError(ErrorCode.PRODUCER_CLOSED, 'shut down');
    });
    expect(report).toMatchObject({ delivered: 0, rejected: 0, failed: 2, remaining: 2 });
    expect(await spool.list()).toHaveLength(4);
  });

  it('quarantines corrupt records and never resends them', async () => {
    const spool = new FileSpool({ dir });
    await spool.append(message(1), failure);
    await writeFile(join(dir, '000000000000001-bad.json'), '{"v":1,"id":');
    await writeFile(join(dir, '000000000000002-shape.json'), JSON.stringify({ v: 1, id: 'x' }));
    const sent: PreparedMessage[] = [];
    const report = await spool.redeliver(async (m) => {
      sent.push(m);
    });
    expect(report).toMatchObject({ delivered: 1, quarantined: 2 });
    expect(sent).toHaveLength(1);
    expect((await readdir(join(dir, 'quarantine'))).sort()).toEqual([
      '000000000000001-bad.json',
      '000000000000002-shape.json',
    ]);
    expect(await spool.list()).toEqual([]);
  });

  it('recovers a whole segment left as a partial file by a crash, quarantines a torn one', async () => {
    const spool = new FileSpool({ dir });
    const id = await spool.append(message(7), failure);
    const whole = join(dir, id.split(':')[0] as string);
    await rename(whole, `${whole}.partial`);
    await writeFile(join(dir, '000000000000003-torn.seg.partial'), '0123abcd {"v":2,"spooledAt":');
    const old = new Date(Date.now() - 60_000);
    await utimes(`${whole}.partial`, old, old);
    await utimes(join(dir, '000000000000003-torn.seg.partial'), old, old);
    const records = await spool.list();
    expect(records.map((r) => r.message.keys[0])).toEqual(['ORDERID_7']);
    expect(await readdir(join(dir, 'quarantine'))).toEqual(['000000000000003-torn.seg.partial']);
  });

  it('still reads and redelivers single-record files of the first format', async () => {
    const legacy = {
      v: 1,
      id: '000000000000001-abc',
      spooledAt: 1,
      redeliveryAttempts: 0,
      error: failure,
      message: {
        topic: 'orders',
        keys: ['OLD'],
        properties: {},
        body: Buffer.from('old').toString('base64'),
      },
    };
    await writeFile(join(dir, '000000000000001-abc.json'), JSON.stringify(legacy));
    const sent: string[] = [];
    const report = await new FileSpool({ dir }).redeliver(async (m) => {
      sent.push(`${m.keys[0]}:${m.body.toString()}`);
    });
    expect(report).toMatchObject({ delivered: 1, quarantined: 0 });
    expect(sent).toEqual(['OLD:old']);
    expect((await readdir(dir)).filter((name) => name !== 'quarantine')).toEqual([]);
  });

  it('stops at the deadline and the limit, leaving the rest', async () => {
    const spool = new FileSpool({ dir });
    for (const n of [1, 2, 3]) await spool.append(message(n), failure);
    expect(await spool.redeliver(async () => undefined, { limit: 1 })).toMatchObject({
      delivered: 1,
      remaining: 2,
    });
    expect(await spool.redeliver(async () => undefined, { deadline: Date.now() - 1 })).toMatchObject({
      delivered: 0,
      remaining: 2,
    });
  });

  it('reports an unwritable directory as SPOOL_FAILED', async () => {
    await writeFile(join(dir, 'file'), 'not a directory');
    const spool = new FileSpool({ dir: join(dir, 'file', 'spool') });
    await expect(spool.append(message(1), failure)).rejects.toMatchObject({ code: ErrorCode.SPOOL_FAILED });
  });
});

/** A file layer that counts syncs, and can fail writes the way a full disk does. Fault injection. */
function countingFileSystem(options: { failWrites?: NodeJS.ErrnoException } = {}) {
  const counts = { datasync: 0, sync: 0, opened: 0 };
  const fileSystem: Partial<SpoolFileSystem> = {
    open: (async (...args: Parameters<typeof open>) => {
      counts.opened++;
      const handle = await open(...args);
      return new Proxy(handle, {
        get(target, key) {
          if (key === 'datasync') {
            return () => {
              counts.datasync++;
              return target.datasync();
            };
          }
          if (key === 'sync') {
            return () => {
              counts.sync++;
              return target.sync();
            };
          }
          if (key === 'writeFile' && options.failWrites) {
            return async () => {
              throw options.failWrites;
            };
          }
          const value = Reflect.get(target, key);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    }) as typeof open,
  };
  return { counts, fileSystem };
}

describe('FileSpool group commit', () => {
  it('makes 1,000 concurrent appends durable in one flush: one data sync and one directory sync', async () => {
    const { counts, fileSystem } = countingFileSystem();
    const spool = new FileSpool({ dir, fileSystem });
    const ids = await Promise.all(Array.from({ length: 1000 }, (_, n) => spool.append(message(n), failure)));
    expect(new Set(ids).size).toBe(1000);
    expect(counts.datasync).toBe(1);
    expect(counts.sync).toBe(1);
    expect((await readdir(dir)).filter((name) => name.endsWith('.seg'))).toHaveLength(1);
    const records = await spool.list();
    expect(records.map((r) => r.message.keys[0])).toEqual(
      Array.from({ length: 1000 }, (_, n) => `ORDERID_${n}`),
    );
  });

  it('appendThen + flushSync: one synchronous write makes every record durable, and they are told on the next microtask', async () => {
    let datasyncs = 0;
    const spool = new FileSpool({
      dir,
      fileSystem: {
        fdatasyncSync: (fd) => {
          datasyncs++;
          fdatasyncSync(fd);
        },
      },
    });
    const told: unknown[] = [];
    for (let n = 0; n < 500; n++) spool.appendThen(message(n), failure, (error) => told.push(error));
    spool.flushSync();
    // On disk already, before anyone was told.
    expect(told).toEqual([]);
    expect(datasyncs).toBe(1);
    const onDisk = (await readdir(dir)).filter((name) => name.endsWith('.seg'));
    expect(onDisk).toHaveLength(1);
    await Promise.resolve();
    expect(told).toEqual(Array.from({ length: 500 }, () => undefined));
    expect((await spool.list()).map((r) => r.message.keys[0])).toEqual(
      Array.from({ length: 500 }, (_, n) => `ORDERID_${n}`),
    );
  });

  it('appendThen reports a failed write to each record, with SPOOL_FAILED', async () => {
    const spool = new FileSpool({
      dir,
      fileSystem: {
        openSync: () => {
          throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
        },
      },
    });
    const told: unknown[] = [];
    for (let n = 0; n < 3; n++) spool.appendThen(message(n), failure, (error) => told.push(error));
    spool.flushSync();
    await Promise.resolve();
    expect(told.map((error) => (error as RocketMQError).code)).toEqual([
      ErrorCode.SPOOL_FAILED,
      ErrorCode.SPOOL_FAILED,
      ErrorCode.SPOOL_FAILED,
    ]);
  });

  it('flushes one at a time: appends made during a flush share the next one', async () => {
    const { counts, fileSystem } = countingFileSystem();
    const spool = new FileSpool({ dir, fileSystem });
    const first = spool.append(message(0), failure);
    // The first flush is under way once its file is open; these queue behind it.
    await new Promise((resolve) => setImmediate(resolve));
    const rest = Array.from({ length: 200 }, (_, n) => spool.append(message(n + 1), failure));
    await Promise.all([first, ...rest]);
    expect(counts.datasync).toBeLessThanOrEqual(2);
    expect(await spool.list()).toHaveLength(201);
  });

  it('a torn last line of a segment is quarantined; the records before it are kept and resent', async () => {
    const spool = new FileSpool({ dir });
    const ids = await Promise.all([1, 2, 3].map((n) => spool.append(message(n), failure)));
    const file = join(dir, (ids[0] as string).split(':')[0] as string);
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.slice(0, text.length - 20));
    const sent: string[] = [];
    const report = await spool.redeliver(async (m) => {
      sent.push(m.keys[0] as string);
    });
    expect(sent).toEqual(['ORDERID_1', 'ORDERID_2']);
    expect(report).toMatchObject({ delivered: 2, quarantined: 1 });
    expect(await readdir(join(dir, 'quarantine'))).toHaveLength(1);
    expect(await spool.list()).toEqual([]);
  });

  it('a full disk (injected ENOSPC) fails the appends with SPOOL_FAILED and leaves no partial file', async () => {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const { fileSystem } = countingFileSystem({ failWrites: enospc });
    const spool = new FileSpool({ dir, fileSystem });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, (_, n) => spool.append(message(n), failure)),
    );
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      expect((outcome as PromiseRejectedResult).reason).toMatchObject({ code: ErrorCode.SPOOL_FAILED });
      expect(String((outcome as PromiseRejectedResult).reason.message)).toMatch(/ENOSPC/);
    }
    expect((await readdir(dir)).filter((name) => name !== 'quarantine')).toEqual([]);
  });

  it('redelivery on a path that is not a directory fails with SPOOL_FAILED, not a raw Node error', async () => {
    await writeFile(join(dir, 'file'), 'not a directory');
    const spool = new FileSpool({ dir: join(dir, 'file') });
    await expect(spool.redeliver(async () => undefined)).rejects.toMatchObject({
      code: ErrorCode.SPOOL_FAILED,
    });
    await expect(spool.list()).rejects.toMatchObject({ code: ErrorCode.SPOOL_FAILED });
  });

  it('two concurrent redeliveries in one process send each record once', async () => {
    const spool = new FileSpool({ dir });
    await Promise.all(Array.from({ length: 300 }, (_, n) => spool.append(message(n), failure)));
    const sent: string[] = [];
    const send = async (m: PreparedMessage) => {
      sent.push(m.keys[0] as string);
    };
    const [a, b] = await Promise.all([spool.redeliver(send), spool.redeliver(send)]);
    expect(a).toEqual(b);
    expect(sent).toHaveLength(300);
    expect(new Set(sent).size).toBe(300);
    expect(await spool.list()).toEqual([]);
  });
});

describe('FileSpool redelivery is safe against what it finds on disk', () => {
  const record = (m: PreparedMessage) =>
    encodeRecord({ message: m, error: failure, spooledAt: 1, redeliveryAttempts: 0 });
  const line = (json: string) => `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;

  it('checks records again before resending: a UNIQ_KEY property, a key with a space, a bad topic and a non-base64 body never reach the sender', async () => {
    const bad = (overrides: Partial<PreparedMessage>) => record({ ...message(9), ...overrides });
    const notBase64 = line(
      JSON.stringify({
        v: 2,
        spooledAt: 1,
        redeliveryAttempts: 0,
        error: failure,
        message: { topic: 'orders', keys: ['B64'], properties: {}, body: '%%%' },
      }),
    );
    await writeFile(
      join(dir, '000000000000001-aaaaaaaaaaaa.seg'),
      [
        record(message(1)),
        bad({ properties: { UNIQ_KEY: 'forged' } }),
        bad({ keys: ['a key'] }),
        bad({ topic: '../x' }),
        notBase64,
      ].join(''),
    );
    const spool = new FileSpool({ dir });
    const sent: string[] = [];
    const report = await spool.redeliver(async (m) => {
      sent.push(m.keys[0] as string);
    });
    expect(sent).toEqual(['ORDERID_1']);
    // Three invalid messages, and the segment with its undecodable line kept as evidence.
    expect(report).toEqual({ delivered: 1, failed: 0, rejected: 0, quarantined: 4, remaining: 0 });
    expect(await spool.list()).toEqual([]);
    const kept = await readdir(join(dir, 'quarantine'));
    expect(kept).toHaveLength(2);
    const invalid = kept.flatMap((name) => {
      const { records } = parseSegment(readFileSync(join(dir, 'quarantine', name), 'utf8'));
      return name === '000000000000001-aaaaaaaaaaaa.seg' ? [] : records;
    });
    expect(invalid.map((r) => r.error.code)).toEqual(Array(3).fill(ErrorCode.MESSAGE_INVALID));
    expect(invalid[0]?.error.message).toMatch(/UNIQ_KEY/);
    expect(await spool.redeliver(async () => expect.unreachable())).toMatchObject({ quarantined: 0 });
  });

  it('identity is the file name: a copy under another name is sent once per copy and removed; an id inside a record touches nothing outside', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'spool-victim-'));
    try {
      await writeFile(join(outside, 'victim'), 'keep me');
      const spool = new FileSpool({ dir });
      const [id] = await Promise.all([spool.append(message(1), failure)]);
      const file = (id as string).split(':')[0] as string;
      await copyFile(join(dir, file), join(dir, '000000000000002-copycopycopy.seg'));
      const victim = relative(dir, join(outside, 'victim'));
      await writeFile(
        join(dir, '000000000000003-legacy.json'),
        JSON.stringify({
          v: 1,
          id: victim,
          spooledAt: 1,
          redeliveryAttempts: 0,
          error: failure,
          message: {
            topic: 'orders',
            keys: ['LEGACY'],
            properties: {},
            body: Buffer.from('x').toString('base64'),
          },
        }),
      );
      const sent: string[] = [];
      const send = async (m: PreparedMessage) => {
        sent.push(m.keys[0] as string);
      };
      expect(await spool.redeliver(send)).toMatchObject({ delivered: 3 });
      expect(await spool.redeliver(send)).toMatchObject({ delivered: 0 });
      expect(sent.sort()).toEqual(['LEGACY', 'ORDERID_1', 'ORDERID_1']);
      expect(await readFile(join(outside, 'victim'), 'utf8')).toBe('keep me');
      expect((await readdir(dir)).filter((name) => name !== 'quarantine')).toEqual([]);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('a live claim of another redeliverer is left alone and still listed; an expired one is taken over from its progress', async () => {
    const spool = new FileSpool({ dir });
    const ids = await Promise.all([1, 2, 3, 4].map((n) => spool.append(message(n), failure)));
    const file = (ids[0] as string).split(':')[0] as string;
    const claim = (expiresAt: number, done: number) =>
      `${file}.lease-${String(expiresAt).padStart(15, '0')}-abcdefabcdef-${done}`;
    const live = claim(Date.now() + 60_000, 1);
    await rename(join(dir, file), join(dir, live));
    expect(await spool.redeliver(async () => expect.unreachable())).toMatchObject({ delivered: 0 });
    expect((await spool.list()).map((r) => r.message.keys[0])).toEqual([
      'ORDERID_2',
      'ORDERID_3',
      'ORDERID_4',
    ]);

    await rename(join(dir, live), join(dir, claim(Date.now() - 1, 2)));
    const sent: string[] = [];
    expect(
      await spool.redeliver(async (m) => {
        sent.push(m.keys[0] as string);
      }),
    ).toMatchObject({ delivered: 2 });
    expect(sent).toEqual(['ORDERID_3', 'ORDERID_4']);
    expect((await readdir(dir)).filter((name) => name !== 'quarantine')).toEqual([]);
  });

  it('quarantine is bounded by count and by age', async () => {
    const spool = new FileSpool({ dir, quarantineMaxFiles: 2, quarantineMaxAgeMs: 60_000 });
    for (const n of [1, 2, 3, 4]) await writeFile(join(dir, `00000000000000${n}-junk.seg`), 'junk\n');
    expect(await spool.redeliver(async () => undefined)).toMatchObject({ quarantined: 4 });
    const left = await readdir(join(dir, 'quarantine'));
    expect(left).toHaveLength(2);
    const old = new Date(Date.now() - 120_000);
    await utimes(join(dir, 'quarantine', left[0] as string), old, old);
    await spool.redeliver(async () => undefined);
    expect(await readdir(join(dir, 'quarantine'))).toEqual([left[1]]);
  });
});

describe('FileSpool refuses a directory others could have filled', () => {
  const record = (m: PreparedMessage) =>
    encodeRecord({ message: m, error: failure, spooledAt: 1, redeliveryAttempts: 0 });
  async function expectRefused(spool: FileSpool, pattern: RegExp) {
    await expect(spool.append(message(1), failure)).rejects.toMatchObject({
      code: ErrorCode.SPOOL_FAILED,
      message: expect.stringMatching(pattern),
    });
    await expect(spool.list()).rejects.toMatchObject({ code: ErrorCode.SPOOL_FAILED });
    await expect(spool.redeliver(async () => expect.unreachable())).rejects.toMatchObject({
      code: ErrorCode.SPOOL_FAILED,
    });
    const appended = spool.append(message(2), failure);
    spool.flushSync();
    await expect(appended).rejects.toMatchObject({ code: ErrorCode.SPOOL_FAILED });
  }

  it('a group- or world-writable directory', async () => {
    const shared = join(dir, 'shared');
    await mkdir(shared);
    await chmod(shared, 0o777);
    // A record planted there must not be sent.
    await writeFile(join(shared, '000000000000001-planted.seg'), record(message(666)));
    await expectRefused(new FileSpool({ dir: shared }), /group or others.*refusing/);
    await chmod(shared, 0o770);
    await expectRefused(new FileSpool({ dir: shared }), /mode 770/);
  });

  it('a directory owned by another user', async () => {
    const theirs = join(dir, 'theirs');
    await mkdir(theirs, { mode: 0o700 });
    if (process.getuid?.() === 0) {
      await chown(theirs, 65534, 65534);
      await expectRefused(new FileSpool({ dir: theirs }), /owned by uid 65534/);
    } else {
      // Not root: the owner is injected (fault injection), the check is the same.
      const real = await lstat(theirs);
      const foreign = Object.assign(Object.create(Object.getPrototypeOf(real)), real, {
        uid: (process.getuid?.() ?? 0) + 1,
      });
      const fileSystem: Partial<SpoolFileSystem> = {
        lstat: (async () => foreign) as unknown as SpoolFileSystem['lstat'],
        lstatSync: () => foreign,
      };
      await expectRefused(new FileSpool({ dir: theirs, fileSystem }), /owned by uid/);
    }
  });

  it('a symbolic link', async () => {
    const target = join(dir, 'target');
    await mkdir(target, { mode: 0o700 });
    await symlink(target, join(dir, 'link'));
    await expectRefused(new FileSpool({ dir: join(dir, 'link') }), /symbolic link/);
  });

  it('a directory of its own, mode 0700 or 0755, is used', async () => {
    const own = join(dir, 'own');
    await mkdir(own, { mode: 0o755 });
    await chmod(own, 0o755);
    const spool = new FileSpool({ dir: own });
    await spool.append(message(1), failure);
    expect(await spool.list()).toHaveLength(1);
  });
});
