import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../lib/entries/advanced.js';
import { ConfigError, ErrorCode } from '../../lib/index.js';

describe('resolveConfig', () => {
  it('applies defaults: 3000 ms send timeout, 3 attempts, no credentials', () => {
    const config = resolveConfig({ endpoints: '127.0.0.1:8081' }, {});
    expect(config).toMatchObject({
      endpoints: '127.0.0.1:8081',
      namespace: '',
      sendTimeoutMs: 3000,
      ssl: false,
      credentials: undefined,
      retry: { maxAttempts: 3 },
    });
  });

  it('falls back to the environment, and options win over it', () => {
    const env = {
      ROCKETMQ_ENDPOINTS: 'rmq.example:8080',
      ROCKETMQ_NAMESPACE: 'MQ_INST_1',
      ALIBABA_CLOUD_ACCESS_KEY_ID: 'AKID',
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'SECRET',
      ALIBABA_CLOUD_SECURITY_TOKEN: 'STS',
      ROCKETMQ_SEND_TIMEOUT_MS: '5000',
      ROCKETMQ_SSL: 'true',
    };
    expect(resolveConfig({}, env)).toMatchObject({
      endpoints: 'rmq.example:8080',
      namespace: 'MQ_INST_1',
      credentials: { accessKeyId: 'AKID', accessKeySecret: 'SECRET', securityToken: 'STS' },
      sendTimeoutMs: 5000,
      ssl: true,
    });
    expect(resolveConfig({ endpoints: 'other:1', sendTimeoutMs: 100 }, env)).toMatchObject({
      endpoints: 'other:1',
      sendTimeoutMs: 100,
    });
  });

  it('prefers ROCKETMQ_ACCESS_KEY / ROCKETMQ_SECRET_KEY over the ALIBABA_CLOUD_* pair', () => {
    const env = {
      ROCKETMQ_ENDPOINTS: 'h:1',
      ROCKETMQ_ACCESS_KEY: 'instance-user',
      ROCKETMQ_SECRET_KEY: 'instance-password',
      ALIBABA_CLOUD_ACCESS_KEY_ID: 'STS.role',
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'role-secret',
      ALIBABA_CLOUD_SECURITY_TOKEN: 'role-token',
    };
    expect(resolveConfig({}, env).credentials).toEqual({
      accessKeyId: 'instance-user',
      accessKeySecret: 'instance-password',
    });
    expect(() => resolveConfig({}, { ROCKETMQ_ENDPOINTS: 'h:1', ROCKETMQ_ACCESS_KEY: 'u' })).toThrow(
      /ROCKETMQ_SECRET_KEY/,
    );
  });

  it('names the missing endpoint and how to get one', () => {
    expect(() => resolveConfig({}, {})).toThrow(/ROCKETMQ_ENDPOINTS/);
    try {
      resolveConfig({}, {});
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).code).toBe(ErrorCode.CONFIG_INVALID);
    }
  });

  it.each([
    [{ endpoints: 'no-port' }, /host:port/],
    [{ endpoints: 'h:1', sendTimeoutMs: 0 }, /sendTimeoutMs/],
    [{ endpoints: 'h:1', retry: { maxAttemps: 2 } }, /unknown retry option: maxAttemps/],
    [{ endpoints: 'h:1', ssl: 'yes' }, /ssl/],
    [{ endpoints: 'h:1', credentials: { accessKeyId: 'AK' } }, /without an AccessKey secret/],
  ])('rejects %j', (options, pattern) => {
    expect(() => resolveConfig(options as never, {})).toThrow(pattern);
  });

  it('never puts a secret into an error message', () => {
    const secret = 'S3CR3T-value-never-shown';
    try {
      resolveConfig({ endpoints: 'h:1', credentials: { accessKeySecret: secret } as never }, {});
      expect.unreachable();
    } catch (error) {
      expect(String((error as Error).message)).not.toContain(secret);
      expect(JSON.stringify(error)).not.toContain(secret);
    }
  });
});
