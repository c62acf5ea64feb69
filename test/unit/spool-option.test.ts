import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../lib/errors.js';
import { resolveProducerOptions, resolveSpool } from '../../lib/producer/options.js';
import { FileSpool } from '../../lib/spool/file-spool.js';
import { S3Spool } from '../../lib/spool/s3-spool.js';

const ENDPOINT = { endpoints: '127.0.0.1:1' };

describe('the spool option', () => {
  it("'s3://bucket/prefix' gives an object spool; { dir } and true a file spool; false none", () => {
    const s3 = resolveSpool('s3://bucket/spool', {});
    expect(s3).toBeInstanceOf(S3Spool);
    const file = resolveSpool({ dir: '/tmp/spool-option' }, {});
    expect(file).toBeInstanceOf(FileSpool);
    expect((file as FileSpool).dir).toBe('/tmp/spool-option');
    expect(resolveSpool(true, {})).toBeInstanceOf(FileSpool);
    expect(resolveSpool(false, { ROCKETMQ_SPOOL_DIR: '/tmp/x' })).toBeUndefined();
  });

  it('passes a Spool of its own through as it is', () => {
    const own = resolveSpool({ dir: '/tmp/own' }, {}) as FileSpool;
    expect(resolveProducerOptions({ ...ENDPOINT, spool: own }, {}).spool).toBe(own);
  });

  it('is off by default; ROCKETMQ_SPOOL_URL turns on an object spool, winning over ROCKETMQ_SPOOL_DIR', () => {
    expect(resolveSpool(undefined, {})).toBeUndefined();
    expect(resolveSpool(undefined, { ROCKETMQ_SPOOL_DIR: ' ', ROCKETMQ_SPOOL_URL: '' })).toBeUndefined();
    const dir = resolveSpool(undefined, { ROCKETMQ_SPOOL_DIR: '/tmp/from-env' });
    expect((dir as FileSpool).dir).toBe('/tmp/from-env');
    expect((resolveSpool(true, { ROCKETMQ_SPOOL_DIR: '/tmp/from-env' }) as FileSpool).dir).toBe(
      '/tmp/from-env',
    );
    const both = { ROCKETMQ_SPOOL_DIR: '/tmp/from-env', ROCKETMQ_SPOOL_URL: 's3://bucket/p' };
    expect(resolveSpool(undefined, both)).toBeInstanceOf(S3Spool);
    expect(resolveProducerOptions(ENDPOINT, both).spool).toBeInstanceOf(S3Spool);
  });

  it('refuses a string that is not an s3:// URL, by name', () => {
    expect(() => resolveProducerOptions({ ...ENDPOINT, spool: 'ftp://bucket' as never }, {})).toThrow(
      expect.objectContaining({
        name: 'ConfigError',
        code: ErrorCode.CONFIG_INVALID,
        message: expect.stringMatching(/^spool must be .*'s3:\/\/bucket\/prefix', got "ftp:\/\/bucket"$/),
      }),
    );
    expect(() => resolveProducerOptions({ ...ENDPOINT, spool: { directory: '/tmp' } as never }, {})).toThrow(
      /spool must be/,
    );
  });
});
