import type { Logger } from '@aws-lambda-powertools/logger';
import { ConfigError } from '../errors.js';
import { getLogger } from '../log.js';
import { integer } from '../options/kinds.js';
import { checked } from '../options/schema.js';
import type { Producer } from '../producer/producer.js';
import { getProducer } from '../producer/shared.js';

/** The options of {@link processMessages}, their defaults, and their checks: all made before any work. */

export type FailurePolicy = 'throw' | 'retry-topic';

export interface ProcessOptions {
  /** Epoch ms by which everything, forwarding included, must be done: usually `invocation.deadline`. */
  deadline: number;
  /** Messages handled at once. @default 1 (one after another) */
  concurrency?: number;
  /** @default 'throw' */
  failurePolicy?: FailurePolicy;
  /** `'retry-topic'` only: where failed messages go for another attempt. */
  retryTopic?: string;
  /** `'retry-topic'` only: where messages go after `maxAttempts`. */
  deadLetterTopic?: string;
  /** `'retry-topic'` only: attempts, the first included, before a message is dead-lettered. @default 3 */
  maxAttempts?: number;
  /**
   * `'retry-topic'` only: milliseconds before `deadline` kept for forwarding failed messages.
   * @default a quarter of the time left, at most 1000
   */
  reserveMs?: number;
  /** The producer forwards go through. @default getProducer() */
  producer?: Producer;
  /** @default getLogger() */
  logger?: Logger;
}

export const PROCESS_DEFAULTS = Object.freeze({
  concurrency: 1,
  failurePolicy: 'throw' as FailurePolicy,
  maxAttempts: 3,
  maxReserveMs: 1000,
});

/** The options of `processMessages` that callers such as `pollMessages` pass through as they are. */
export const PROCESS_OPTION_NAMES = [
  'concurrency',
  'failurePolicy',
  'retryTopic',
  'deadLetterTopic',
  'maxAttempts',
  'reserveMs',
  'producer',
  'logger',
] as const;

const OPTION_KEYS = new Set(['deadline', ...PROCESS_OPTION_NAMES]);

export interface ResolvedProcessOptions {
  deadline: number;
  /** The deadline minus the time reserved for forwarding: nothing starts, nor runs, past it. */
  handlerDeadline: number;
  concurrency: number;
  policy: FailurePolicy;
  retryTopic: string;
  deadLetterTopic: string;
  maxAttempts: number;
  /** The producer, taken only when a failure is forwarded (a batch that succeeds needs none). */
  producer: () => Producer;
  logger: Logger;
}

function positive(value: unknown, name: string): number {
  return checked(integer(1), value, name);
}

export function resolveProcessOptions(options: ProcessOptions, now: number): ResolvedProcessOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('processMessages: options with a deadline are required');
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key))
      throw new ConfigError(`processMessages: unknown option "${key}"`, { field: key });
  }
  const { deadline } = options;
  if (typeof deadline !== 'number' || !Number.isFinite(deadline)) {
    throw new ConfigError('processMessages: deadline (epoch ms) is required', { field: 'deadline' });
  }
  const policy = options.failurePolicy ?? PROCESS_DEFAULTS.failurePolicy;
  if (policy !== 'throw' && policy !== 'retry-topic') {
    throw new ConfigError('processMessages: failurePolicy must be "throw" or "retry-topic"', {
      field: 'failurePolicy',
    });
  }
  let reserveMs = 0;
  if (policy === 'retry-topic') {
    for (const name of ['retryTopic', 'deadLetterTopic'] as const) {
      if (typeof options[name] !== 'string' || options[name] === '') {
        throw new ConfigError(`processMessages: ${name} is required with failurePolicy "retry-topic"`, {
          field: name,
        });
      }
    }
    reserveMs =
      options.reserveMs ?? Math.min(PROCESS_DEFAULTS.maxReserveMs, Math.max(0, (deadline - now) / 4));
    if (typeof reserveMs !== 'number' || !Number.isFinite(reserveMs) || reserveMs < 0) {
      throw new ConfigError('processMessages: reserveMs must be a number ≥ 0', { field: 'reserveMs' });
    }
  }
  const given = options.producer;
  return {
    deadline,
    handlerDeadline: deadline - reserveMs,
    concurrency: positive(options.concurrency ?? PROCESS_DEFAULTS.concurrency, 'concurrency'),
    policy,
    retryTopic: options.retryTopic ?? '',
    deadLetterTopic: options.deadLetterTopic ?? '',
    maxAttempts: positive(options.maxAttempts ?? PROCESS_DEFAULTS.maxAttempts, 'maxAttempts'),
    producer: () => given ?? getProducer(),
    logger: options.logger ?? getLogger(),
  };
}

/** Throws the ConfigError `processMessages` would throw for these options, before any work. */
export function checkProcessOptions(options: ProcessOptions): void {
  resolveProcessOptions(options, Date.now());
}
