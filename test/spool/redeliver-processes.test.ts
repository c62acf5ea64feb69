import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileSpool, type RedeliverReport, type Spool } from '../../lib/entries/spool.js';
import { ErrorCode, validateMessage } from '../../lib/index.js';
import { S3Spool } from '../../lib/spool/s3-spool.js';
import { useBroker } from '../support/broker-fixture.js';
import type { RedeliverChildConfig } from './redeliver-child.js';
import { clientOptions, type S3Server, startS3Server } from './support/s3-server.js';

/**
 * Redeliverers in separate processes sharing one spool, as instances share a bucket (or processes a
 * directory): each record reaches the broker's ledger once, and a SIGKILLed redeliverer's claims expire
 * and another one finishes its work.
 */

const CHILD = fileURLToPath(new URL('./redeliver-child.ts', import.meta.url));
const TOPIC = 'orders';
const failure = { code: ErrorCode.UNAVAILABLE, message: 'broker down' };

const fixture = useBroker();
let work: string;
let s3: S3Server;
let serial = 0;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'spool-processes-'));
  s3 = await startS3Server();
});
afterAll(async () => {
  await s3.stop();
  await rm(work, { recursive: true, force: true });
});

interface Backend {
  name: string;
  /** A fresh spool in the parent, and the config a child needs to open the same one. */
  open(leaseMs: number): Promise<{ spool: Spool; child: RedeliverChildConfig['store'] }>;
}

const backends: Backend[] = [
  {
    name: 'file spool, shared directory',
    async open(leaseMs) {
      const dir = await mkdtemp(join(work, 'dir-'));
      return { spool: new FileSpool({ dir, leaseMs }), child: { dir, leaseMs } };
    },
  },
  {
    name: 'S3 spool on s3rver',
    async open(leaseMs) {
      const url = `s3://${s3.bucket}/processes-${++serial}`;
      const s3Options = clientOptions(s3);
      return { spool: new S3Spool({ url, leaseMs, ...s3Options }), child: { url, s3: s3Options, leaseMs } };
    },
  },
];

/** Spools `segments × perSegment` records, one flush (one segment) per batch. */
async function fill(spool: Spool, prefix: string, segments: number, perSegment: number): Promise<string[]> {
  const keys: string[] = [];
  for (let s = 0; s < segments; s++) {
    const batch = Array.from({ length: perSegment }, (_, n) => `${prefix}-${s * perSegment + n}`);
    await Promise.all(
      batch.map((key) => spool.append(validateMessage({ topic: TOPIC, keys: [key], body: key }), failure)),
    );
    keys.push(...batch);
  }
  return keys;
}

function startChild(config: RedeliverChildConfig): { child: ChildProcess; lines: AsyncIterator<string> } {
  const child = fork(CHILD, [JSON.stringify(config)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['pipe', 'pipe', 'inherit', 'ipc'],
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT' },
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
  return { child, lines };
}

async function lineMatching(lines: AsyncIterator<string>, test: (line: string) => boolean): Promise<string> {
  for (;;) {
    const { value, done } = await lines.next();
    if (done) throw new Error('the child ended before printing the expected line');
    if (test(value)) return value;
  }
}

/** How often each key is in the broker's ledger. */
function ledger(prefix: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const message of fixture.broker.messages(TOPIC)) {
    const key = message.keys[0];
    if (key?.startsWith(`${prefix}-`)) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

describe.each(backends)('$name', (backend) => {
  it('an instance spools 1,000 records with the broker failing and is SIGKILLed; another process redelivers them all', async () => {
    const { spool, child: store } = await backend.open(10_000);
    const prefix = `recycled-${++serial}`;
    const spooler = startChild({
      endpoint: fixture.broker.endpoint,
      store,
      untilEmpty: false,
      spool: { count: 1000, prefix, topic: TOPIC },
    });
    await lineMatching(spooler.lines, (line) => line === 'ready');
    fixture.broker.faults.failNextSends(1000, 50001);
    spooler.child.stdin?.write('go\n');
    const summary = await lineMatching(spooler.lines, (line) => line.startsWith('spooled '));
    spooler.child.kill('SIGKILL');
    await once(spooler.child, 'exit');
    fixture.broker.faults.reset();
    expect(summary).toBe('spooled 1000 0');
    expect(ledger(prefix).size).toBe(0);
    expect(await spool.list()).toHaveLength(1000);

    const redeliverer = startChild({ endpoint: fixture.broker.endpoint, store, untilEmpty: true });
    await lineMatching(redeliverer.lines, (line) => line === 'ready');
    redeliverer.child.stdin?.write('go\n');
    await lineMatching(redeliverer.lines, (line) => line.startsWith('['));
    await once(redeliverer.child, 'exit');
    const counts = ledger(prefix);
    expect(counts.size).toBe(1000);
    expect([...counts.values()].every((count) => count === 1)).toBe(true);
    expect(await spool.list()).toEqual([]);
  }, 120_000);

  it('two redeliverer processes started together send each of 2,000 records exactly once', async () => {
    const { spool, child: spoolConfig } = await backend.open(10_000);
    const prefix = `pair-${++serial}`;
    const keys = await fill(spool, prefix, 20, 100);
    // A little latency per send, so that the two really run side by side.
    fixture.broker.faults.delayMs = 2;
    const config: RedeliverChildConfig = {
      endpoint: fixture.broker.endpoint,
      store: spoolConfig,
      untilEmpty: true,
    };
    const children = [startChild(config), startChild(config)];
    for (const { lines } of children) await lineMatching(lines, (line) => line === 'ready');
    for (const { child } of children) child.stdin?.write('go\n');
    const reports = await Promise.all(
      children.map(async ({ lines, child }) => {
        const line = await lineMatching(lines, (text) => text.startsWith('['));
        await once(child, 'exit');
        return JSON.parse(line) as RedeliverReport[];
      }),
    );
    const counts = ledger(prefix);
    expect(keys.filter((key) => counts.get(key) !== 1)).toEqual([]);
    expect(counts.size).toBe(2000);
    const [a = 0, b = 0] = reports.map((rounds) => rounds.reduce((sum, report) => sum + report.delivered, 0));
    expect(a + b).toBe(2000);
    // Both took part: claims split the work rather than one waiting for the other to finish.
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
    expect(await spool.list()).toEqual([]);
  }, 120_000);

  it('a redeliverer SIGKILLed mid-run: its claim expires, another process finishes, nothing is lost', async () => {
    const leaseMs = 1500;
    const { spool, child: spoolConfig } = await backend.open(leaseMs);
    const prefix = `crash-${++serial}`;
    const keys = await fill(spool, prefix, 3, 100);
    fixture.broker.faults.delayMs = 15;
    const stored = fixture.broker.messages(TOPIC).length;
    const first = startChild({ endpoint: fixture.broker.endpoint, store: spoolConfig, untilEmpty: false });
    await lineMatching(first.lines, (line) => line === 'ready');
    first.child.stdin?.write('go\n');
    // Killed once it is well into the first segment.
    await fixture.broker.waitForMessages(TOPIC, stored + 50, 30_000);
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');
    const deliveredBeforeKill = ledger(prefix).size;
    expect(deliveredBeforeKill).toBeLessThan(300);

    const second = startChild({ endpoint: fixture.broker.endpoint, store: spoolConfig, untilEmpty: true });
    await lineMatching(second.lines, (line) => line === 'ready');
    second.child.stdin?.write('go\n');
    await lineMatching(second.lines, (line) => line.startsWith('['));
    await once(second.child, 'exit');

    const counts = ledger(prefix);
    expect(keys.filter((key) => !counts.has(key))).toEqual([]);
    expect(await spool.list()).toEqual([]);
    const duplicates = [...counts.values()].reduce((sum, count) => sum + count - 1, 0);
    // The file spool records progress per record: at most the one in flight is sent again. The S3 spool
    // records it with each renewal (every half lease): at most what was sent since the last one.
    if (backend.name.startsWith('file')) expect(duplicates).toBeLessThanOrEqual(1);
    else expect(duplicates).toBeLessThanOrEqual(deliveredBeforeKill);
    console.info(
      `${backend.name}: ${deliveredBeforeKill} delivered before SIGKILL, ${duplicates} sent twice`,
    );
  }, 120_000);
});
