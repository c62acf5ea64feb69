import { defaultsOf } from '../options/schema.js';
import { PRODUCER_ONLY_OPTIONS, type ProducerOptions } from './options.js';

/**
 * Bounds what async and oneway sends may hold in memory at once: a function that fans out faster than
 * the broker answers must not grow without limit. Sync sends are bounded by their callers awaiting them.
 * Doc text, bounds and defaults are the option schema's (`PRODUCER_ONLY_OPTIONS`).
 */
export type InFlightLimits = Pick<ProducerOptions, 'maxInFlight' | 'maxInFlightBytes' | 'maxConcurrentSends'>;

const defaults = defaultsOf(PRODUCER_ONLY_OPTIONS);

export const IN_FLIGHT_DEFAULTS: Readonly<Required<InFlightLimits>> = Object.freeze({
  maxInFlight: defaults.maxInFlight as number,
  maxInFlightBytes: defaults.maxInFlightBytes as number,
  maxConcurrentSends: defaults.maxConcurrentSends as number,
});
