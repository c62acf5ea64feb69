/** What every part of the benchmark gets from bench/run.ts, and the helpers they share. */
import type { BrokerProcess } from './broker-process.js';

export interface BenchOptions {
  /** Messages per round for sync, async and the wrapper iterations. */
  n: number;
  concurrency: number;
  rounds: number;
  /** Calls per oneway round (at least 10,000 outside --quick). */
  onewayN: number;
  quick: boolean;
}

export interface BenchContext extends BenchOptions {
  broker: BrokerProcess;
  endpoint: string;
  /** A progress line on stderr; stdout is kept for the result table. */
  progress(line: string): void;
}

/** The logger the raw client gets: without one it writes files under the home directory. */
export const silentClientLogger = { info() {}, warn() {}, error() {}, debug() {} };

/** 256 bytes, the body size of bench/broker-throughput.ts, so the figures compare. */
export const BODY = Buffer.alloc(256, 'x');
export const SYNC_TOPIC = 'logs';
export const ONEWAY_TOPIC = 'metrics';

export const MiB = 1024 * 1024;

export function elapsedMs(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e6;
}

export function forceGc(): void {
  globalThis.gc?.();
}

/**
 * The library logs JSON lines (Powertools: INFO and DEBUG on stdout, WARN and ERROR on stderr). While
 * the benchmark runs they are formatted as in production but not written, so the output stays readable;
 * `print` and `progress` still write. What was swallowed is counted for the results file.
 */
export class OutputGate {
  readonly #stdout = process.stdout.write.bind(process.stdout);
  readonly #stderr = process.stderr.write.bind(process.stderr);
  readonly swallowed: Record<string, number> = {};
  /** WARN and ERROR lines by level and message start. */
  readonly warnings: Record<string, number> = {};

  #swallow = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    const level = /"level":"(\w+)"/.exec(text)?.[1] ?? 'other';
    this.swallowed[level] = (this.swallowed[level] ?? 0) + 1;
    if (level !== 'INFO' && level !== 'DEBUG') {
      // Counted by level and the first words of the message ("Failed to send message(s) finally, …").
      const message = /"message":"([^"]{0,60})/.exec(text)?.[1] ?? text.slice(0, 60);
      const key = `${level}: ${message}`;
      this.warnings[key] = (this.warnings[key] ?? 0) + 1;
    }
    const callback = rest.find((item) => typeof item === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof process.stdout.write;

  mute(): void {
    process.stdout.write = this.#swallow;
    process.stderr.write = this.#swallow;
  }

  unmute(): void {
    process.stdout.write = this.#stdout as typeof process.stdout.write;
    process.stderr.write = this.#stderr as typeof process.stderr.write;
  }

  print(text: string): void {
    this.#stdout(text.endsWith('\n') ? text : `${text}\n`);
  }

  progress(text: string): void {
    this.#stderr(text.endsWith('\n') ? text : `${text}\n`);
  }
}
