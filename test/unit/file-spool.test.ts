import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, FileSpool, RocketMQError, validateMessage } from '../../lib/index.js';
import type { PreparedMessage } from '../../lib/message.js';

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
    const { readFile } = await import('node:fs/promises');
    const record = JSON.parse(await readFile(join(dir, 'quarantine', kept as string), 'utf8'));
    expect(record).toMatchObject({ error: { code: 'TOPIC_NOT_FOUND' }, redeliveryAttempts: 1 });
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

  it('recovers a whole record left as a partial file by a crash, quarantines a torn one', async () => {
    const spool = new FileSpool({ dir });
    const id = await spool.append(message(7), failure);
    const whole = join(dir, `${id}.json`);
    const { rename } = await import('node:fs/promises');
    await rename(whole, `${whole}.partial`);
    await writeFile(join(dir, '000000000000003-torn.json.partial'), '{"v":1,"id":"000');
    const old = new Date(Date.now() - 60_000);
    await utimes(`${whole}.partial`, old, old);
    await utimes(join(dir, '000000000000003-torn.json.partial'), old, old);
    const records = await spool.list();
    expect(records.map((r) => r.message.keys[0])).toEqual(['ORDERID_7']);
    expect(await readdir(join(dir, 'quarantine'))).toEqual(['000000000000003-torn.json.partial']);
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
