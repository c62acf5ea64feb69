import type { Logger } from '@aws-lambda-powertools/logger';
import { CLIENT_OPTIONS, type Env, type ResolvedConfig } from '../config.js';
import { given, integer, number } from '../options/kinds.js';
import { type OptionsOf, option, type ResolvedOf, resolveOptions } from '../options/schema.js';
import { FileSpool } from '../spool/file-spool.js';
import { S3Spool } from '../spool/s3-spool.js';
import type { Spool } from '../spool/spool.js';
import type { SendTracker } from './pending.js';
import type { TransportFactory } from './transport.js';

export type SpoolOption = Spool | boolean | { dir: string } | `s3://${string}`;

function isSpoolOption(value: unknown): boolean {
  if (typeof value === 'boolean') return true;
  if (typeof value === 'string') return value.startsWith('s3://');
  if (value === null || typeof value !== 'object') return false;
  return 'append' in value || typeof (value as { dir?: unknown }).dir === 'string';
}

/** A file spool or an object spool from the option, else from the environment, else none. */
export function resolveSpool(option: SpoolOption | undefined, env: Env = process.env): Spool | undefined {
  const url = env.ROCKETMQ_SPOOL_URL?.trim();
  const dir = env.ROCKETMQ_SPOOL_DIR?.trim();
  if (option === undefined) {
    // Object storage outlives the instance: when both are set, it wins over a directory.
    if (url) return new S3Spool({ url });
    return dir ? new FileSpool({ dir }) : undefined;
  }
  if (option === false) return undefined;
  if (option === true) return new FileSpool(dir ? { dir } : {});
  if (typeof option === 'string') return new S3Spool({ url: option });
  if ('append' in option) return option;
  return new FileSpool({ dir: option.dir });
}

const isFunction = (value: unknown) => typeof value === 'function';

const spool = given<SpoolOption>("a Spool, true, { dir } or 's3://bucket/prefix'", isSpoolOption);
const logger = given<Logger>('a Powertools Logger', (value) => value !== null && typeof value === 'object');

/** The options of a producer beyond its client connection's. */
export const PRODUCER_ONLY_OPTIONS = {
  /**
   * Where failed async sends are persisted for later delivery: a `Spool`, `true` for a `FileSpool` in its
   * default directory (`<tmpdir>/rocketmq-serverless-spool`), `{ dir }`, or `'s3://bucket/prefix'` for an
   * `S3Spool` (AWS S3, or Alibaba Cloud OSS through its S3-compatible endpoint). See [Spools](#spools).
   * @env `ROCKETMQ_SPOOL_URL=s3://bucket/prefix` turns on an object spool; else `ROCKETMQ_SPOOL_DIR` turns
   * on a file spool in that directory (it is also the directory for `spool: true`)
   * @default none: failures only reach the callback
   */
  spool: option(spool, { resolve: resolveSpool }),
  /**
   * How long before a drain's deadline open async sends are expired when there is a spool, so that the
   * spool can make their records durable before the drain returns; the drain adds the time that expiring
   * its open sends takes (measured) and the spool's own recent flush times when longer. Never more than
   * three quarters of the time a drain has. See [Lifecycle](#lifecycle).
   */
  spoolReserveMs: option(number(0), {
    env: 'ROCKETMQ_SPOOL_RESERVE_MS',
    // Measured on a 2-core machine under load: 1,000 records encoded and durable in one flush in 10–30 ms,
    // 10,000 in 60–90 ms (most of it JSON encoding). 100 ms covers a burst of a few thousand with room.
    default: 100,
  }),
  /**
   * Async and oneway sends handed to the transport and not settled yet. Past this bound or
   * `maxInFlightBytes`, oneway sends are dropped and counted; async sends wait for room until their
   * deadline, then fail `IN_FLIGHT_FULL`.
   */
  maxInFlight: option(integer(1), { default: 10_000 }),
  /** Their body bytes; a message larger than this alone still goes when nothing else is in flight. */
  maxInFlightBytes: option(integer(1), { default: 64 * 1024 * 1024 }),
  /** Of those, how many calls may be on the wire at once; the others wait their turn, in order. */
  maxConcurrentSends: option(integer(1), { default: 128 }),
  /**
   * Powertools logger to write to.
   * @env `POWERTOOLS_LOG_LEVEL`, `POWERTOOLS_SERVICE_NAME`
   * @default the library's shared Powertools logger, with secrets redacted
   */
  logger: option(logger, {}),
  /**
   * Told of every async and oneway send while it is pending, e.g. to count it with the invocation that
   * started it (see `drain({ sends })`).
   * @default no tracking beyond the producer's own
   */
  track: option(given<SendTracker>('a function', isFunction), {}),
  /**
   * Replaces the transport; meant for fault-injection tests.
   * @default the transport that `transport` names
   */
  transportFactory: option(given<TransportFactory>('a function', isFunction), {}),
};

/** Every producer option: its client connection's, then its own. */
export const PRODUCER_OPTIONS = { ...CLIENT_OPTIONS, ...PRODUCER_ONLY_OPTIONS };

/** The producer's options; doc text, bounds and defaults are in {@link PRODUCER_OPTIONS}. */
export type ProducerOptions = OptionsOf<typeof PRODUCER_OPTIONS>;
export type ProducerOnlyOptions = ResolvedOf<typeof PRODUCER_ONLY_OPTIONS>;

/**
 * Every producer option resolved at once: the client connection's (as {@link resolveConfig}) and the
 * producer's own; unknown keys are rejected as `producer` options.
 */
export function resolveProducerOptions(
  options: ProducerOptions = {},
  env: Env = process.env,
): { config: ResolvedConfig } & ProducerOnlyOptions {
  const all = resolveOptions(PRODUCER_OPTIONS, options, env, 'producer');
  const config = Object.fromEntries(
    Object.keys(CLIENT_OPTIONS).map((key) => [key, all[key as keyof typeof all]]),
  );
  const own = Object.fromEntries(
    Object.keys(PRODUCER_ONLY_OPTIONS).map((key) => [key, all[key as keyof typeof all]]),
  );
  return { config: config as ResolvedConfig, ...(own as ProducerOnlyOptions) };
}
