import { describe, expect, it } from 'vitest';
import { CLIENT_OPTIONS, DEFAULTS, resolveConfig } from '../../../lib/config.js';
import { ConfigError, ErrorCode } from '../../../lib/errors.js';
import { PRODUCER_OPTIONS, resolveProducerOptions } from '../../../lib/producer/options.js';

/**
 * The behaviour of every option, written out here rather than read from the schema, so that a changed
 * default, variable name or bound fails a test instead of silently changing the library.
 */
interface Expected {
  default: unknown;
  /** The variable, a valid text for it and the value it gives. */
  env?: [name: string, text: string, value: unknown];
  /** Values the option refuses, with the word its error must contain. */
  refuses: [value: unknown, message: RegExp][];
}

const ENDPOINT = { endpoints: 'h:1' };

const NUMERIC: Record<string, Expected> = {
  sendTimeoutMs: {
    default: 3000,
    env: ['ROCKETMQ_SEND_TIMEOUT_MS', '5000', 5000],
    refuses: [
      [0, /sendTimeoutMs must be an integer ≥ 1, got 0/],
      [1.5, /integer ≥ 1, got 1.5/],
      ['100', /sendTimeoutMs must be an integer ≥ 1, got "100"/],
    ],
  },
  attemptTimeoutMs: { default: 1500, refuses: [[0, /attemptTimeoutMs must be an integer ≥ 1/]] },
  maxBodyBytes: { default: 4 * 1024 * 1024, refuses: [[-1, /maxBodyBytes must be an integer ≥ 0/]] },
  spoolReserveMs: {
    default: 100,
    env: ['ROCKETMQ_SPOOL_RESERVE_MS', '12.5', 12.5],
    refuses: [
      [-1, /spoolReserveMs must be a number ≥ 0, got -1/],
      [Number.POSITIVE_INFINITY, /spoolReserveMs must be a number ≥ 0/],
    ],
  },
  maxInFlight: { default: 10_000, refuses: [[0, /maxInFlight must be an integer ≥ 1/]] },
  maxInFlightBytes: { default: 64 * 1024 * 1024, refuses: [[0, /maxInFlightBytes must be an integer ≥ 1/]] },
  maxConcurrentSends: { default: 128, refuses: [[2.5, /maxConcurrentSends must be an integer ≥ 1/]] },
};

const OTHER: Record<string, Expected> = {
  namespace: {
    default: '',
    env: ['ROCKETMQ_NAMESPACE', 'MQ_INST_1', 'MQ_INST_1'],
    refuses: [[1, /namespace must be a string/]],
  },
  ssl: {
    default: false,
    env: ['ROCKETMQ_SSL', '1', true],
    refuses: [
      ['yes', /ssl must be true or false, got "yes"/],
      ['true', /ssl must be true or false/],
    ],
  },
  transport: {
    default: 'lean',
    env: ['ROCKETMQ_TRANSPORT', ' official ', 'official'],
    refuses: [['grpc', /transport must be one of lean, official, got "grpc"/]],
  },
  logger: { default: undefined, refuses: [['info', /logger must be a Powertools Logger, got "info"/]] },
  track: { default: undefined, refuses: [[{}, /track must be a function, got an object/]] },
  transportFactory: { default: undefined, refuses: [[1, /transportFactory must be a function/]] },
  spool: {
    default: undefined,
    refuses: [['ftp://bucket', /spool must be .*'s3:\/\/bucket\/prefix', got "ftp:\/\/bucket"/]],
  },
};

const RETRY: Record<string, Expected> = {
  maxAttempts: { default: 3, refuses: [[0, /retry\.maxAttempts must be an integer ≥ 1, got 0/]] },
  baseDelayMs: { default: 100, refuses: [[-1, /retry\.baseDelayMs must be an integer ≥ 0/]] },
  maxDelayMs: { default: 1000, refuses: [['1s', /retry\.maxDelayMs must be an integer ≥ 0, got "1s"/]] },
};

function resolved(options: object, env: Record<string, string> = {}) {
  const { config, ...own } = resolveProducerOptions({ ...ENDPOINT, ...options }, env);
  return { ...config, ...own } as Record<string, unknown>;
}

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe(ErrorCode.CONFIG_INVALID);
    return error as ConfigError;
  }
  return expect.unreachable('no ConfigError was thrown');
}

describe('every option', () => {
  it('is covered here: a new option needs its expected behaviour written down', () => {
    const covered = [...Object.keys(NUMERIC), ...Object.keys(OTHER), 'endpoints', 'credentials', 'retry'];
    expect(Object.keys(PRODUCER_OPTIONS).sort()).toEqual(covered.sort());
    expect(Object.keys(CLIENT_OPTIONS.retry.group).sort()).toEqual(Object.keys(RETRY).sort());
  });

  describe.each(Object.entries({ ...NUMERIC, ...OTHER }))('%s', (name, expected) => {
    it('has its default', () => {
      expect(resolved({})[name]).toEqual(expected.default);
    });

    it.each(expected.refuses)('refuses %j with a ConfigError naming it', (value, message) => {
      expect(configError(() => resolved({ [name]: value })).message).toMatch(message);
    });
  });

  const withEnv = Object.entries({ ...NUMERIC, ...OTHER }).flatMap(([name, { env, default: fallback }]) =>
    env ? [{ name, env, fallback }] : [],
  );
  it.each(withEnv)(
    '$name falls back to its variable, and the option wins over it',
    ({ name, env, fallback }) => {
      const [variable, text, value] = env;
      expect(resolved({}, { [variable]: text })[name]).toEqual(value);
      expect(resolved({ [name]: fallback }, { [variable]: text })[name]).toEqual(fallback);
      // An empty or blank variable counts as unset.
      expect(resolved({}, { [variable]: '  ' })[name]).toEqual(fallback);
    },
  );

  describe.each(Object.entries(RETRY))('retry.%s', (name, expected) => {
    it('has its default', () => {
      expect((resolveConfig(ENDPOINT, {}).retry as Record<string, number>)[name]).toBe(expected.default);
    });
    it.each(expected.refuses)('refuses %j', (value, message) => {
      expect(configError(() => resolveConfig({ ...ENDPOINT, retry: { [name]: value } }, {})).message).toMatch(
        message,
      );
    });
  });

  it('exposes the plain defaults as DEFAULTS', () => {
    expect(DEFAULTS).toEqual({
      namespace: '',
      sendTimeoutMs: 3000,
      ssl: false,
      retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000 },
      maxBodyBytes: 4 * 1024 * 1024,
      transport: 'lean',
    });
  });

  it('names the variable, not the option, when the bad value came from the environment', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ ROCKETMQ_SEND_TIMEOUT_MS: 'soon' }, /^ROCKETMQ_SEND_TIMEOUT_MS must be an integer ≥ 1, got "soon"$/],
      [{ ROCKETMQ_SSL: 'yes' }, /^ROCKETMQ_SSL must be true or false, got "yes"$/],
      [{ ROCKETMQ_TRANSPORT: 'grpc' }, /^ROCKETMQ_TRANSPORT must be one of lean, official, got "grpc"$/],
      [{ ROCKETMQ_SPOOL_RESERVE_MS: '-5' }, /^ROCKETMQ_SPOOL_RESERVE_MS must be a number ≥ 0, got "-5"$/],
    ];
    for (const [env, message] of cases) {
      const error = configError(() => resolved({}, env));
      expect(error.message).toMatch(message);
      expect(error.field).toBe(Object.keys(env)[0]);
    }
  });

  it('computes attemptTimeoutMs from the resolved sendTimeoutMs, wherever that came from', () => {
    expect(resolveConfig(ENDPOINT, { ROCKETMQ_SEND_TIMEOUT_MS: '5001' }).attemptTimeoutMs).toBe(2501);
    expect(resolveConfig({ ...ENDPOINT, sendTimeoutMs: 10, attemptTimeoutMs: 9 }, {}).attemptTimeoutMs).toBe(
      9,
    );
  });
});
