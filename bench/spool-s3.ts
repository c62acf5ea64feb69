/**
 * The object-storage spool against s3rver on loopback: how fast group commit makes records durable
 * (one PutObject per flush) for bursts of different sizes, and what a redelivery costs in requests and
 * time. The sender is a no-op, so the figures are the spool's own.
 *
 *   npx tsx bench/spool-s3.ts [--quick]
 *
 * Prints a table and writes bench/results/spool-s3.json. What the figures hide: s3rver stores objects
 * on the local disk and answers in well under a millisecond, where AWS S3 or OSS take 10–50 ms per
 * request in region, so the records/s here are an upper bound for the spool's CPU side and the request
 * counts are what carries over; the machine may be shared; bodies are 256 bytes.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCode, validateMessage } from '../lib/index.js';
import { S3Spool } from '../lib/spool/s3-spool.js';
import { clientOptions, startS3Server } from '../test/spool/support/s3-server.js';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 2 : 5;
const BURSTS = quick ? [1, 100, 1000] : [1, 100, 1000, 10_000];
const failure = { code: ErrorCode.UNAVAILABLE, message: 'broker down' };
const body = 'x'.repeat(256);

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

const server = await startS3Server();
const rows: Record<string, number | string>[] = [];
let serial = 0;
try {
  for (const burst of BURSTS) {
    const appendMs: number[] = [];
    const redeliverMs: number[] = [];
    let puts = 0;
    let redeliverRequests = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const spool = new S3Spool({ url: `s3://${server.bucket}/bench-${++serial}`, ...clientOptions(server) });
      // Warm the client (SDK load, connection) outside the timed part.
      await spool.append(validateMessage({ topic: 'orders', body: 'warm' }), failure);
      await spool.redeliver(async () => undefined);
      const messages = Array.from({ length: burst }, (_, n) =>
        validateMessage({ topic: 'orders', keys: [`K${n}`], body }),
      );
      const before = { ...spool.requests };
      let started = performance.now();
      await Promise.all(messages.map((message) => spool.append(message, failure)));
      appendMs.push(performance.now() - started);
      puts = spool.requests.put - before.put;
      const beforeRedeliver = Object.values(spool.requests).reduce((a, b) => a + b, 0);
      started = performance.now();
      const report = await spool.redeliver(async () => undefined);
      redeliverMs.push(performance.now() - started);
      if (report.delivered !== burst) throw new Error(`redelivered ${report.delivered} of ${burst}`);
      redeliverRequests = Object.values(spool.requests).reduce((a, b) => a + b, 0) - beforeRedeliver;
    }
    const append = median(appendMs);
    const redeliver = median(redeliverMs);
    rows.push({
      burst,
      'PUTs per burst': puts,
      'append burst ms (median)': Number(append.toFixed(1)),
      'records/s durable': Math.round((burst / append) * 1000),
      'redeliver ms (median)': Number(redeliver.toFixed(1)),
      'records/s redelivered': Math.round((burst / redeliver) * 1000),
      'requests per redelivery': redeliverRequests,
    });
  }
} finally {
  await server.stop();
}

console.table(rows);
const results = {
  bench: 'spool-s3',
  date: new Date().toISOString(),
  machine: `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), shared with other work`,
  store: 's3rver 3.7.1 on loopback',
  rounds: ROUNDS,
  rows,
};
const dir = join(fileURLToPath(new URL('.', import.meta.url)), 'results');
await mkdir(dir, { recursive: true });
await writeFile(join(dir, 'spool-s3.json'), `${JSON.stringify(results, null, 2)}\n`);
