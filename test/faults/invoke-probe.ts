/**
 * Preloaded into the local-invoke process by the cold-start scenario (`node --import tsx --import
 * ./test/faults/invoke-probe.ts infra/invoke.ts …`). It listens on the producer's diagnostics channels
 * and, at exit, writes one `FAULT-PROBE {json}` line to stderr: when the first send started and when
 * the last one settled, in milliseconds since the process started, and how long each send took. The
 * suite uses it to time the handler apart from the process start-up.
 */
import { subscribe } from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';

interface Settled {
  at: number;
  durationMs: number;
  code: string | undefined;
  attempts: number;
}

let firstStart: number | undefined;
const settled: Settled[] = [];

subscribe('rocketmq-serverless:send:start', () => {
  firstStart ??= performance.now();
});
subscribe('rocketmq-serverless:send:error', (event) => {
  const { durationMs, attempts, error } = event as {
    durationMs: number;
    attempts: number;
    error: { code: string };
  };
  settled.push({ at: performance.now(), durationMs, code: error.code, attempts });
});
subscribe('rocketmq-serverless:send:success', (event) => {
  const { durationMs, attempts } = event as { durationMs: number; attempts: number };
  settled.push({ at: performance.now(), durationMs, code: undefined, attempts });
});
process.on('exit', () => {
  process.stderr.write(`FAULT-PROBE ${JSON.stringify({ firstStart, settled, exitAt: performance.now() })}\n`);
});
