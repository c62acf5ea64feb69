export type SendMode = 'sync' | 'async' | 'oneway';

export interface ModeStats {
  /** Sends the broker acknowledged (oneway: calls that completed without a transport error). */
  sent: number;
  /** Sends that ended in an error (after retries). */
  failed: number;
  /** Extra attempts made after a retryable failure. */
  retried: number;
  /** Failed async sends written to the spool. */
  spooled: number;
  /** Oneway sends abandoned at a drain deadline. */
  dropped: number;
}

export interface LatencySummary {
  /** Samples behind the percentiles (the most recent ones, at most {@link LATENCY_WINDOW}). */
  count: number;
  p50: number;
  p99: number;
}

export interface ProducerStats {
  sync: ModeStats;
  async: ModeStats;
  oneway: ModeStats;
  /** Async and oneway sends not settled yet. */
  inFlight: number;
  /** Times the underlying client was replaced after a stale-channel error. */
  clientResets: number;
  /** Callbacks that threw; the producer logged and ignored them. */
  callbackErrors: number;
  /** Duration of acknowledged sync and async sends, retries included, in milliseconds. */
  latencyMs: LatencySummary;
}

export const LATENCY_WINDOW = 4096;

function emptyMode(): ModeStats {
  return { sent: 0, failed: 0, retried: 0, spooled: 0, dropped: 0 };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return Math.round((sorted[Math.max(0, index)] ?? 0) * 1000) / 1000;
}

/** Counters and a fixed ring of recent latencies: constant memory however long the process lives. */
export class StatsRecorder {
  readonly modes: Record<SendMode, ModeStats> = {
    sync: emptyMode(),
    async: emptyMode(),
    oneway: emptyMode(),
  };
  clientResets = 0;
  callbackErrors = 0;
  #latencies: Float64Array | undefined;
  #latencyCount = 0;
  /** Percentiles of the samples as of `#latencyCount`; sorting the window is the costly part. */
  #summary: LatencySummary & { at: number } = { count: 0, p50: 0, p99: 0, at: 0 };

  recordLatency(ms: number): void {
    this.#latencies ??= new Float64Array(LATENCY_WINDOW);
    this.#latencies[this.#latencyCount % LATENCY_WINDOW] = ms;
    this.#latencyCount++;
  }

  #latencySummary(): LatencySummary {
    if (this.#summary.at !== this.#latencyCount && this.#latencies) {
      const count = Math.min(this.#latencyCount, LATENCY_WINDOW);
      const sorted = this.#latencies.slice(0, count).sort();
      this.#summary = {
        count,
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        at: this.#latencyCount,
      };
    }
    const { count, p50, p99 } = this.#summary;
    return { count, p50, p99 };
  }

  snapshot(inFlight: number): ProducerStats {
    return {
      sync: { ...this.modes.sync },
      async: { ...this.modes.async },
      oneway: { ...this.modes.oneway },
      inFlight,
      clientResets: this.clientResets,
      callbackErrors: this.callbackErrors,
      latencyMs: this.#latencySummary(),
    };
  }
}
