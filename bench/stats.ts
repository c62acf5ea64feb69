/** Small statistics for the benchmark: percentiles of samples, and median/min/max across rounds. */

/** Median, min and max of one figure across rounds. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

function sortedCopy(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).sort();
}

/** Nearest-rank percentile (p in 0..100) of unsorted samples; 0 for no samples. */
export function percentile(values: ArrayLike<number>, p: number): number {
  if (values.length === 0) return 0;
  return percentileOfSorted(sortedCopy(values), p);
}

export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? 0;
}

/** The middle value; the mean of the two middle values for an even count. */
export function median(values: ArrayLike<number>): number {
  if (values.length === 0) return Number.NaN;
  const sorted = sortedCopy(values);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? Number.NaN)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

export function spread(values: readonly number[]): Spread {
  if (values.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN };
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/** Spread of one field over a list of per-round records. */
export function spreadOf<T>(rounds: readonly T[], pick: (round: T) => number): Spread {
  return spread(rounds.map(pick));
}

/** p50 and p99 of one round's samples. */
export function latencySummary(samples: ArrayLike<number>): { p50: number; p99: number } {
  const sorted = sortedCopy(samples);
  return { p50: percentileOfSorted(sorted, 50), p99: percentileOfSorted(sorted, 99) };
}

/** Least-squares slope of y over x = 0, 1, 2, …; 0 for fewer than two points. */
export function slope(values: readonly number[]): number {
  const n = values.length;
  if (n < 2) return 0;
  const meanX = (n - 1) / 2;
  const meanY = values.reduce((sum, y) => sum + y, 0) / n;
  let numerator = 0;
  let denominator = 0;
  values.forEach((y, x) => {
    numerator += (x - meanX) * (y - meanY);
    denominator += (x - meanX) ** 2;
  });
  return numerator / denominator;
}

/** Rounds to `digits` decimals, for the JSON file; keeps NaN as null-friendly NaN. */
export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export function roundSpread(value: Spread, digits = 2): Spread {
  return {
    median: round(value.median, digits),
    min: round(value.min, digits),
    max: round(value.max, digits),
  };
}
