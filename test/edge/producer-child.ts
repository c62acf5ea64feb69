/**
 * A function process for the edge-of-invocation tests, forked by edge.test.ts. It sends a burst of async
 * messages with a file spool, then ends the way a platform ends an instance:
 * - `shutdown`: the code calls `producer.shutdown({ timeoutMs })` and exits the moment it resolves, as a
 *   frozen or killed instance would;
 * - `sigterm`: a Lambda handler (the `rocketmq` middleware and its SIGTERM hook) is mid-burst when the
 *   parent sends SIGTERM; the hook shuts down and exits.
 * At exit it writes, synchronously, what the producer reported: which keys succeeded, which were
 * reported spooled, which failed without a spool record. The parent holds that against the disk and the
 * broker's ledger. Never import it.
 */
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createProducer, type SendCallback } from '../../lib/index.js';

export interface ProducerChildConfig {
  mode: 'shutdown' | 'sigterm';
  endpoint: string;
  spoolDir: string;
  count: number;
  reportFile: string;
  topic: string;
  prefix: string;
  /** `shutdown` mode: the bound passed to `shutdown()`. */
  shutdownMs?: number;
}

export interface ProducerChildReport {
  succeeded: string[];
  spooled: string[];
  notSpooled: string[];
  /** `shutdown` mode: how long `shutdown()` took. */
  shutdownMs?: number;
  /** `sigterm` mode: from the signal to the exit. */
  exitAfterSigtermMs?: number;
}

const config = JSON.parse(process.argv[2] ?? '{}') as ProducerChildConfig;
const report: ProducerChildReport = { succeeded: [], spooled: [], notSpooled: [] };
let sigtermAt: number | undefined;

process.on('exit', () => {
  if (sigtermAt !== undefined) report.exitAfterSigtermMs = performance.now() - sigtermAt;
  writeFileSync(config.reportFile, JSON.stringify(report));
});

function callbackFor(key: string): SendCallback {
  return {
    onSuccess: () => report.succeeded.push(key),
    onException: ({ spooled }) => (spooled ? report.spooled : report.notSpooled).push(key),
  };
}

function waitForGo(): Promise<void> {
  const lines = createInterface({ input: process.stdin });
  return new Promise((resolve) => {
    lines.once('line', () => {
      lines.close();
      resolve();
    });
  });
}

async function shutdownMode(): Promise<void> {
  const producer = createProducer({ endpoints: config.endpoint, spool: { dir: config.spoolDir } });
  await producer.send({ topic: config.topic, body: 'warm-up' });
  process.stdout.write('ready\n');
  await waitForGo();
  for (let i = 0; i < config.count; i++) {
    const key = `${config.prefix}-${i}`;
    producer.sendAsync({ topic: config.topic, keys: [key], body: key }, callbackFor(key));
  }
  const started = performance.now();
  await producer.shutdown({ timeoutMs: config.shutdownMs ?? 200 });
  report.shutdownMs = performance.now() - started;
  // The platform freezes or kills the instance right here.
  process.exit(0);
}

async function sigtermMode(): Promise<void> {
  process.env.ROCKETMQ_ENDPOINTS = config.endpoint;
  const { lambdaContext } = await import('../../infra/emulate.js');
  const { lambdaHandler } = await import('../../lib/platforms/lambda.js');
  // Ahead of the library's own listener: the time the signal came.
  process.prependListener('SIGTERM', () => {
    sigtermAt = performance.now();
  });
  const handler = lambdaHandler(
    async (_event: unknown, invocation) => {
      await invocation.producer.send({ topic: config.topic, body: 'warm-up' });
      process.stdout.write('ready\n');
      await waitForGo();
      for (let i = 0; i < config.count; i++) {
        const key = `${config.prefix}-${i}`;
        invocation.producer.sendAsync({ topic: config.topic, keys: [key], body: key }, callbackFor(key));
      }
      process.stdout.write('burst\n');
      // Still working when the platform decides to stop the environment.
      await new Promise((resolve) => setTimeout(resolve, 60_000));
    },
    { producer: { spool: { dir: config.spoolDir } } },
  );
  await handler({}, lambdaContext('edge-sigterm', 120));
}

await (config.mode === 'shutdown' ? shutdownMode() : sigtermMode());
