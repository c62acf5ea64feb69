import type { Logger } from '@aws-lambda-powertools/logger';
import { CONFIG_KEYS, type ProducerConfigOptions, rejectUnknownKeys } from '../config.js';
import { ErrorCode, RocketMQError } from '../errors.js';
import { FileSpool } from '../spool/file-spool.js';
import type { Spool } from '../spool/spool.js';
import type { BatchingOptions } from './batcher.js';
import { IN_FLIGHT_DEFAULTS, type InFlightLimits } from './in-flight.js';
import type { TransportFactory } from './transport.js';

export interface ProducerOptions extends ProducerConfigOptions, InFlightLimits {
  /** Powertools logger to write to. @default the library's shared logger */
  logger?: Logger;
  /**
   * Where failed async sends are persisted for later delivery: a {@link Spool}, `true` for a
   * {@link FileSpool} in its default directory, or `{ dir }`. Env `ROCKETMQ_SPOOL_DIR` turns on a file
   * spool there. @default none: failures only reach the callback
   */
  spool?: Spool | boolean | { dir: string };
  /** Replaces the transport; meant for fault-injection tests. @default the official client */
  transportFactory?: TransportFactory;
  /**
   * Lets oneway sends of one topic share a SendMessage call (`true` for the defaults). Consumers then
   * see one message id for the whole batch on a real proxy; see {@link BatchingOptions}.
   * @default false
   */
  onewayBatching?: boolean | BatchingOptions;
  /**
   * The same for async sends: each message still gets its own callback, exactly once, and the batch is
   * retried as a whole. A real proxy answers a batch with one entry, so every message of a batch gets
   * that shared message id in its result, which is also the id its consumers see. @default false
   */
  asyncBatching?: boolean | BatchingOptions;
}

function positiveLimit(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new RocketMQError(
      ErrorCode.CONFIG_INVALID,
      `${name} must be an integer ≥ 1, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

export const PRODUCER_KEYS = new Set([
  ...CONFIG_KEYS,
  'logger',
  'spool',
  'transportFactory',
  'onewayBatching',
  'asyncBatching',
  'maxInFlight',
  'maxInFlightBytes',
  'maxConcurrentSends',
]);
export const BATCHING_KEYS = new Set(['maxMessages', 'maxBytes', 'lingerMs']);

export function resolveSpool(option: ProducerOptions['spool']): Spool | undefined {
  if (option === undefined) return process.env.ROCKETMQ_SPOOL_DIR ? new FileSpool() : undefined;
  if (option === false) return undefined;
  if (option === true) return new FileSpool();
  if ('append' in option) return option;
  return new FileSpool({ dir: option.dir });
}

export function resolveLimits(options: ProducerOptions): Required<InFlightLimits> {
  return {
    maxInFlight: positiveLimit(options.maxInFlight ?? IN_FLIGHT_DEFAULTS.maxInFlight, 'maxInFlight'),
    maxInFlightBytes: positiveLimit(
      options.maxInFlightBytes ?? IN_FLIGHT_DEFAULTS.maxInFlightBytes,
      'maxInFlightBytes',
    ),
    maxConcurrentSends: positiveLimit(
      options.maxConcurrentSends ?? IN_FLIGHT_DEFAULTS.maxConcurrentSends,
      'maxConcurrentSends',
    ),
  };
}

export function resolveBatching(
  option: boolean | BatchingOptions | undefined,
  name: 'onewayBatching' | 'asyncBatching',
): BatchingOptions | undefined {
  if (!option) return undefined;
  const batching = option === true ? {} : option;
  rejectUnknownKeys(batching, BATCHING_KEYS, name);
  return batching;
}
