/**
 * A redeliverer process for the spool tests, forked by redeliver-processes.test.ts: another instance
 * with the same spool (a shared directory, or the same bucket) and nothing else in common. It prints
 * `ready`, waits for a line on stdin (so two of them start together), runs `redeliverSpool()` until the
 * spool is empty or it is told `once`, prints its reports as one JSON line and exits. The parent may
 * SIGKILL it mid-run instead. Never import it.
 */
import { createInterface } from 'node:readline';
import { createProducer, FileSpool, type RedeliverReport, type Spool } from '../../lib/index.js';
import { S3Spool } from '../../lib/spool/s3-spool.js';

export interface RedeliverChildConfig {
  endpoint: string;
  spool: { dir: string; leaseMs: number } | { url: string; s3: Record<string, unknown>; leaseMs: number };
  /** Keep calling until the spool is empty (a claim held by another one makes a call skip it). */
  untilEmpty: boolean;
}

const config = JSON.parse(process.argv[2] ?? '{}') as RedeliverChildConfig;
const spool: Spool =
  'dir' in config.spool
    ? new FileSpool({ dir: config.spool.dir, leaseMs: config.spool.leaseMs })
    : new S3Spool({ url: config.spool.url, leaseMs: config.spool.leaseMs, ...config.spool.s3 });
const producer = createProducer({ endpoints: config.endpoint, spool });

const lines = createInterface({ input: process.stdin });
process.stdout.write('ready\n');
await new Promise<void>((resolve) => lines.once('line', () => resolve()));
lines.close();

const reports: RedeliverReport[] = [];
for (let round = 0; round < 200; round++) {
  reports.push(await producer.redeliverSpool());
  process.stdout.write(`round ${round}\n`);
  if (!config.untilEmpty || (await spool.list()).length === 0) break;
  await new Promise((resolve) => setTimeout(resolve, 200));
}
process.stdout.write(`${JSON.stringify(reports)}\n`);
await producer.shutdown({ timeoutMs: 2000 });
process.exit(0);
