import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../lib/errors.js';
import { resolveCredentials } from '../../../lib/options/credentials.js';

const INSTANCE = { ROCKETMQ_ACCESS_KEY: 'user', ROCKETMQ_SECRET_KEY: 'password' };
const CLOUD = {
  ALIBABA_CLOUD_ACCESS_KEY_ID: 'STS.id',
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'role-secret',
  ALIBABA_CLOUD_SECURITY_TOKEN: 'role-token',
};

describe('resolveCredentials: the one credential precedence', () => {
  it('is undefined when nothing gives an AccessKey pair', () => {
    expect(resolveCredentials(undefined, {})).toBeUndefined();
    expect(resolveCredentials({} as never, { ROCKETMQ_ACCESS_KEY: '' })).toBeUndefined();
  });

  it('takes the option, then ROCKETMQ_*, then ALIBABA_CLOUD_*', () => {
    const option = { accessKeyId: 'opt-id', accessKeySecret: 'opt-secret' };
    expect(resolveCredentials(option, { ...INSTANCE, ...CLOUD })).toEqual(option);
    expect(resolveCredentials(undefined, { ...INSTANCE, ...CLOUD })).toEqual({
      accessKeyId: 'user',
      accessKeySecret: 'password',
    });
    expect(resolveCredentials(undefined, CLOUD)).toEqual({
      accessKeyId: 'STS.id',
      accessKeySecret: 'role-secret',
      securityToken: 'role-token',
    });
    expect(resolveCredentials(undefined, { ...INSTANCE, ROCKETMQ_SECURITY_TOKEN: 't' })?.securityToken).toBe(
      't',
    );
  });

  it('fills each field of the option from the environment on its own', () => {
    expect(resolveCredentials({ accessKeyId: 'opt-id' } as never, INSTANCE)).toEqual({
      accessKeyId: 'opt-id',
      accessKeySecret: 'password',
    });
  });

  it('names the missing half of a pair and never shows the other one', () => {
    const cases: [Parameters<typeof resolveCredentials>, RegExp][] = [
      [
        [undefined, { ROCKETMQ_ACCESS_KEY: 'visible-id' }],
        /without an AccessKey secret \(ROCKETMQ_SECRET_KEY\)/,
      ],
      [
        [undefined, { ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'hidden' }],
        /without an AccessKey id \(ALIBABA_CLOUD_ACCESS_KEY_ID\)/,
      ],
      [[{ accessKeySecret: 'hidden' } as never, {}], /without an AccessKey id/],
      [
        [undefined, { ALIBABA_CLOUD_SECURITY_TOKEN: 'hidden' }],
        /security token was given without an AccessKey pair/,
      ],
    ];
    for (const [args, message] of cases) {
      expect(() => resolveCredentials(...args)).toThrow(message);
      expect(() => resolveCredentials(...args)).toThrow(ConfigError);
      try {
        resolveCredentials(...args);
      } catch (error) {
        expect((error as Error).message).not.toContain('hidden');
      }
    }
  });

  it('refuses a non-object, unknown fields and fields that are not strings', () => {
    expect(() => resolveCredentials('key' as never, {})).toThrow('credentials must be an object');
    expect(() => resolveCredentials({ accessKey: 'a' } as never, {})).toThrow(
      'unknown credentials option: accessKey (known: accessKeyId, accessKeySecret, securityToken)',
    );
    expect(() => resolveCredentials({ accessKeyId: 1 } as never, {})).toThrow(
      'credentials.accessKeyId must be a string',
    );
  });
});
