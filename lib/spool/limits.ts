import { ConfigError } from '../errors.js';

/**
 * The numeric limits both spools take (a lease's length, quarantine's bounds), checked the same way,
 * and the rule that keeps quarantine within its bounds.
 */

/** The value, when it is a finite number > 0; CONFIG_INVALID naming the spool and the option otherwise. */
export function positiveLimit(value: number, spool: 'FileSpool' | 'S3Spool', name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ConfigError(`${spool} ${name} must be a number > 0, got ${String(value)}`);
  }
  return value;
}

/** Each of `defaults`' limits: the one in `given` when there is one, checked with {@link positiveLimit}. */
export function positiveLimits<K extends string>(
  spool: 'FileSpool' | 'S3Spool',
  given: Partial<Record<NoInfer<K>, number>>,
  defaults: Record<K, number>,
): Record<K, number> {
  const limits = { ...defaults };
  for (const name of Object.keys(defaults) as K[]) {
    limits[name] = positiveLimit(given[name] ?? defaults[name], spool, name);
  }
  return limits;
}

/** How much quarantine keeps: nothing older than `maxAgeMs`, and at most `maxEntries`, the newest. */
export interface QuarantineBounds {
  maxAgeMs: number;
  maxEntries: number;
}

/**
 * The quarantined entries to delete: those older than the age limit, then the oldest beyond the count.
 * Quarantine is evidence kept for a person to look at; bounded, so that a stream of bad records cannot
 * fill the disk or the bucket.
 */
export function beyondBounds<T extends { modifiedAt: number }>(
  entries: readonly T[],
  bounds: QuarantineBounds,
  now: number,
): T[] {
  const newestFirst = [...entries].sort((a, b) => b.modifiedAt - a.modifiedAt);
  return newestFirst.filter(
    (entry, index) => index >= bounds.maxEntries || now - entry.modifiedAt > bounds.maxAgeMs,
  );
}
