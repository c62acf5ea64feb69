/**
 * Bounds what async and oneway sends may hold in memory at once: a function that fans out faster than
 * the broker answers must not grow without limit. Sync sends are bounded by their callers awaiting them.
 */
export interface InFlightLimits {
  /** Async and oneway sends handed to the transport and not answered yet. @default 10_000 */
  maxInFlight?: number;
  /** Their body bytes. @default 64 MiB */
  maxInFlightBytes?: number;
  /** Of those, how many calls may be on the wire at once; the others wait their turn. @default 128 */
  maxConcurrentSends?: number;
}

export const IN_FLIGHT_DEFAULTS: Required<InFlightLimits> = {
  maxInFlight: 10_000,
  maxInFlightBytes: 64 * 1024 * 1024,
  maxConcurrentSends: 128,
};
