import type { ProducerConfigOptions } from '../config.js';
import { ConfigError } from '../errors.js';
import type { MessageHandler } from './outcome.js';
import { PROCESS_OPTION_NAMES, type ProcessOptions } from './process-options.js';

/** The options of {@link pollMessages}, their defaults, and their checks: all made before anything is received. */

export const POLL_DEFAULTS = Object.freeze({
  tag: '*',
  maxMessages: 1000,
  batchSize: 32,
  /** The proxy refuses less than 10 s (40011). */
  invisibleDurationMs: 30_000,
  awaitDurationMs: 1000,
  idleRounds: 1,
  settleReserveMs: 300,
  backoffBaseMs: 10_000,
  backoffMaxMs: 300_000,
});

export interface PollOptions<R> extends Omit<ProcessOptions, 'deadline'> {
  topic: string;
  consumerGroup: string;
  handler: MessageHandler<R>;
  /** Epoch ms by which the poll returns: usually `invocation.deadline`. */
  deadline: number;
  /** Tag filter. @default '*' */
  tag?: string;
  /** Messages received in this call, at most. @default 1000 */
  maxMessages?: number;
  /** Messages asked for per receive. @default 32 */
  batchSize?: number;
  /** How long a received message stays invisible to the group. @default 30000 */
  invisibleDurationMs?: number;
  /** Long-polling time of one receive; a round starts only with this much time left. @default 1000 */
  awaitDurationMs?: number;
  /** Stop after this many receives in a row came back empty. @default 1 */
  idleRounds?: number;
  /** Time kept before `deadline` for acks and re-timing. @default 300 */
  settleReserveMs?: number;
  /** Redelivery delay of a failed message: base × 2^(attempt − 1), at most the max. @default 10000 / 300000 */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Broker endpoints and credentials. @default from the environment, as for the producer */
  client?: ProducerConfigOptions;
}

const POLL_KEYS = new Set([
  'topic',
  'consumerGroup',
  'handler',
  'deadline',
  'tag',
  'maxMessages',
  'batchSize',
  'invisibleDurationMs',
  'awaitDurationMs',
  'idleRounds',
  'settleReserveMs',
  'backoffBaseMs',
  'backoffMaxMs',
  'client',
  ...PROCESS_OPTION_NAMES,
]);

function whole(value: unknown, name: string, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new ConfigError(`pollMessages: ${name} must be a whole number ≥ ${min}`, { field: name });
  }
  return value;
}

function text(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ConfigError(`pollMessages: ${name} must be a non-empty string`, { field: name });
  }
  return value;
}

export type PollSettings = ReturnType<typeof resolvePollOptions>;

/** The poll's own settings, checked, with defaults; the processor's options are checked by the processor. */
export function resolvePollOptions<R>(options: PollOptions<R>) {
  if (typeof options !== 'object' || options === null)
    throw new ConfigError('pollMessages: options are required');
  for (const key of Object.keys(options)) {
    if (!POLL_KEYS.has(key)) throw new ConfigError(`pollMessages: unknown option "${key}"`, { field: key });
  }
  if (typeof options.handler !== 'function') {
    throw new ConfigError('pollMessages: handler must be a function', { field: 'handler' });
  }
  if (typeof options.deadline !== 'number' || !Number.isFinite(options.deadline)) {
    throw new ConfigError('pollMessages: deadline (epoch ms) is required', { field: 'deadline' });
  }
  const d = POLL_DEFAULTS;
  return {
    topic: text(options.topic, 'topic'),
    consumerGroup: text(options.consumerGroup, 'consumerGroup'),
    tag: text(options.tag ?? d.tag, 'tag'),
    maxMessages: whole(options.maxMessages ?? d.maxMessages, 'maxMessages', 1),
    batchSize: whole(options.batchSize ?? d.batchSize, 'batchSize', 1),
    invisibleDurationMs: whole(
      options.invisibleDurationMs ?? d.invisibleDurationMs,
      'invisibleDurationMs',
      1,
    ),
    awaitDurationMs: whole(options.awaitDurationMs ?? d.awaitDurationMs, 'awaitDurationMs', 1),
    idleRounds: whole(options.idleRounds ?? d.idleRounds, 'idleRounds', 1),
    settleReserveMs: whole(options.settleReserveMs ?? d.settleReserveMs, 'settleReserveMs', 0),
    backoffBaseMs: whole(options.backoffBaseMs ?? d.backoffBaseMs, 'backoffBaseMs', 1),
    backoffMaxMs: whole(options.backoffMaxMs ?? d.backoffMaxMs, 'backoffMaxMs', 1),
  };
}
