/**
 * An instance for the spool tests, forked by redeliver-processes.test.ts: a process with the same spool
 * as the others (a shared directory, or the same bucket) and nothing else in common. It prints `ready`
 * and waits for a line on stdin (so two of them start together). Then, as a redeliverer, it runs
 * `redeliverSpool()` (until the spool is empty with `untilEmpty`), prints its reports as one JSON line
 * and exits; or, with `spool`, it sends that many async messages, prints `spooled <n> <m>` (reported
 * spooled, not) once every callback has run, and waits to be SIGKILLed. Never import it.
 */
import { createInterface } from 'node:readline';
import { FileSpool, type RedeliverReport, type Spool } from '../../lib/entries/spool.js';
import { createProducer } from '../../lib/index.js';
import { S3Spool } from '../../lib/spool/s3-spool.js';

export interface RedeliverChildConfig {
  endpoint: string;
  store: { dir: string; leaseMs: number } | { url: string; s3: Record<string, unknown>; leaseMs: number };
  /** Keep calling until the spool is empty (a claim held by another one makes a call skip it). */
  untilEmpty: boolean;
  /** Instead of redelivering: send this many async messages keyed `<prefix>-<n>` to `topic`. */
  spool?: { count: number; prefix: string; topic: string };
}

const config = JSON.parse(process.argv[2] ?? '{}') as RedeliverChildConfig;
const spool: Spool =
  'dir' in config.store
    ? new FileSpool({ dir: config.store.dir, leaseMs: config.store.leaseMs })
    : new S3Spool({ url: config.store.url, leaseMs: config.store.leaseMs, ...config.store.s3 });
const producer = createProducer({
  endpoints: config.endpoint,
  spool,
  sendTimeoutMs: 2000,
  retry: { maxAttempts: 1 },
});

const lines = createInterface({ input: process.stdin });
process.stdout.write('ready\n');
await new Promise<void>((resolve) => lines.once('line', () => resolve()));
lines.close();

if (config.spool) {
  const { count, prefix, topic } = config.spool;
  let spooled = 0;
  let notSpooled = 0;
  let succeeded = 0;
  await new Promise<void>((resolve) => {
    const settle = () => {
      if (spooled + notSpooled + succeeded === count) resolve();
    };
    for (let n = 0; n < count; n++) {
      producer.sendAsync(
        { topic, keys: [`${prefix}-${n}`], body: `${prefix}-${n}` },
        {
          onSuccess: () => {
            succeeded++;
            settle();
          },
          onException: (failure) => {
            if (failure.spooled) spooled++;
            else notSpooled++;
            settle();
          },
        },
      );
    }
  });
  process.stdout.write(`spooled ${spooled} ${notSpooled + succeeded}\n`);
  // The instance is recycled here: the parent SIGKILLs it.
  await new Promise(() => undefined);
}

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
