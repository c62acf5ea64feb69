import { describe, expect, expectTypeOf, it } from 'vitest';
import { type ProducerConfigOptions, type ResolvedConfig, resolveConfig } from '../../../lib/config.js';
import { ConfigError } from '../../../lib/errors.js';
import { boolean, given, integer, oneOf, text } from '../../../lib/options/kinds.js';
import {
  group,
  type OptionsOf,
  option,
  type ResolvedOf,
  resolveOptions,
} from '../../../lib/options/schema.js';
import { type ProducerOptions, resolveProducerOptions } from '../../../lib/producer/options.js';

const SCHEMA = {
  size: option(integer(2), { env: 'TEST_SIZE', default: 2 }),
  half: option(integer(1), { default: (resolved) => (resolved.size as number) / 2 }),
  name: option(text, {
    env: 'TEST_NAME',
    required: 'no name: pass { name } or set TEST_NAME',
    finish: (value) => value.toUpperCase(),
  }),
  mode: option(oneOf(['a', 'b']), { default: 'a' }),
  flag: option(boolean, { env: 'TEST_FLAG', default: false }),
  hook: option(
    given<() => void>('a function', (value) => typeof value === 'function'),
    {},
  ),
  nested: group({ depth: option(integer(0), { default: 1 }) }),
  custom: option(text, { resolve: (value, env) => value ?? env.TEST_CUSTOM ?? 'none' }),
};

function error(run: () => unknown): ConfigError {
  try {
    run();
  } catch (caught) {
    expect(caught).toBeInstanceOf(ConfigError);
    return caught as ConfigError;
  }
  return expect.unreachable('no ConfigError');
}

describe('resolveOptions', () => {
  it('takes each option, else its variable, else its default, in declaration order', () => {
    expect(resolveOptions(SCHEMA, { name: 'x' }, {}, 'test')).toEqual({
      size: 2,
      half: 1,
      name: 'X',
      mode: 'a',
      flag: false,
      hook: undefined,
      nested: { depth: 1 },
      custom: 'none',
    });
    const fromEnv = resolveOptions(
      SCHEMA,
      {},
      { TEST_SIZE: '8', TEST_NAME: 'n', TEST_FLAG: 'true', TEST_CUSTOM: 'c' },
      'test',
    );
    expect(fromEnv).toMatchObject({ size: 8, half: 4, name: 'N', flag: true, custom: 'c' });
    expect(
      resolveOptions(SCHEMA, { size: 4, name: 'o', flag: false }, { TEST_SIZE: '8', TEST_FLAG: '1' }, 'test'),
    ).toMatchObject({
      size: 4,
      half: 2,
      name: 'O',
      flag: false,
    });
  });

  it('rejects unknown keys by name, with the known ones, at the top and in groups', () => {
    expect(error(() => resolveOptions(SCHEMA, { name: 'x', sise: 3 }, {}, 'test')).message).toBe(
      'unknown test option: sise (known: size, half, name, mode, flag, hook, nested, custom)',
    );
    expect(error(() => resolveOptions(SCHEMA, { name: 'x', a: 1, b: 2 }, {}, 'test')).message).toMatch(
      /^unknown test options: a, b /,
    );
    const nested = error(() => resolveOptions(SCHEMA, { name: 'x', nested: { dept: 2 } }, {}, 'test'));
    expect(nested.message).toBe('unknown nested option: dept (known: depth)');
    expect(nested.field).toBe('dept');
  });

  it('refuses options that are not an object, and a group that is not one', () => {
    for (const input of [null, 'x', 3, []]) {
      expect(error(() => resolveOptions(SCHEMA, input, {}, 'test')).message).toBe(
        'test options must be an object',
      );
    }
    expect(error(() => resolveOptions(SCHEMA, { name: 'x', nested: 5 }, {}, 'test')).message).toBe(
      'nested options must be an object',
    );
  });

  it('names a group member by its path, and shows objects and functions only by their type', () => {
    expect(
      error(() => resolveOptions(SCHEMA, { name: 'x', nested: { depth: -1 } }, {}, 'test')).message,
    ).toBe('nested.depth must be an integer ≥ 0, got -1');
    const secretish = { token: 'never-shown' };
    const shown = error(() => resolveOptions(SCHEMA, { name: 'x', size: secretish }, {}, 'test')).message;
    expect(shown).toBe('size must be an integer ≥ 2, got an object');
    expect(error(() => resolveOptions(SCHEMA, { name: 'x', mode: () => 1 }, {}, 'test')).message).toBe(
      'mode must be one of a, b, got a function',
    );
  });

  it('raises the required message when neither the option nor its variable is set', () => {
    expect(error(() => resolveOptions(SCHEMA, {}, { TEST_NAME: ' ' }, 'test')).message).toBe(
      'no name: pass { name } or set TEST_NAME',
    );
  });

  it('checks a value before a resolve hook sees it', () => {
    expect(error(() => resolveOptions(SCHEMA, { name: 'x', custom: 7 }, {}, 'test')).message).toBe(
      'custom must be a string, got 7',
    );
  });

  it('derives the option and resolved types from the schema', () => {
    expectTypeOf<OptionsOf<typeof SCHEMA>>().toEqualTypeOf<{
      size?: number;
      half?: number;
      name?: string;
      mode?: 'a' | 'b';
      flag?: boolean;
      hook?: () => void;
      nested?: { depth?: number };
      custom?: string;
    }>();
    expectTypeOf<ResolvedOf<typeof SCHEMA>['hook']>().toEqualTypeOf<(() => void) | undefined>();
    expectTypeOf<ResolvedOf<typeof SCHEMA>['size']>().toEqualTypeOf<number>();
    expectTypeOf<ResolvedConfig['transport']>().toEqualTypeOf<'lean' | 'official'>();
    expectTypeOf<ResolvedConfig['retry']>().toEqualTypeOf<{
      maxAttempts: number;
      baseDelayMs: number;
      maxDelayMs: number;
    }>();
    expectTypeOf<ProducerConfigOptions>().not.toHaveProperty('spool');
    expectTypeOf<ProducerOptions>().toHaveProperty('spool');
  });
});

describe('the client and producer options', () => {
  it('reject unknown keys as client or producer options', () => {
    expect(error(() => resolveConfig({ endpoints: 'h:1', sendTimeout: 1 } as never, {})).message).toMatch(
      /^unknown client option: sendTimeout \(known: endpoints, namespace, /,
    );
    expect(
      error(() => resolveProducerOptions({ endpoints: 'h:1', spol: true } as never, {})).message,
    ).toMatch(/^unknown producer option: spol \(known: .*spool/);
    expect(error(() => resolveConfig(null as never, {})).message).toBe('client options must be an object');
  });

  it('normalizes endpoints: split on ; or , and trimmed, joined with ;', () => {
    expect(resolveConfig({ endpoints: ' a:1 , b:2;c:3 ' }, {}).endpoints).toBe('a:1;b:2;c:3');
    expect(resolveConfig({}, { ROCKETMQ_ENDPOINTS: 'e:9' }).endpoints).toBe('e:9');
    expect(error(() => resolveConfig({ endpoints: 'a:1;nope' }, {})).message).toBe(
      'endpoint "nope" is not host:port',
    );
    expect(error(() => resolveConfig({ endpoints: ' ; ' }, {})).message).toMatch(/^no RocketMQ endpoint/);
    expect(error(() => resolveConfig({}, { ROCKETMQ_ENDPOINTS: '' })).field).toBe('endpoints');
  });
});
