import { afterEach, describe, expect, it } from 'vitest';
import { FileSpool, S3Spool } from '../../lib/entries/spool.js';
import { createProducer, ErrorCode } from '../../lib/index.js';

const producers: ReturnType<typeof createProducer>[] = [];
afterEach(async () => {
  await Promise.all(producers.splice(0).map((producer) => producer.shutdown({ timeoutMs: 100 })));
});

describe('the spool option', () => {
  it("'s3://bucket/prefix' gives an object spool; { dir } and true a file spool", () => {
    const s3 = createProducer({ endpoints: '127.0.0.1:1', spool: 's3://bucket/spool' });
    const file = createProducer({ endpoints: '127.0.0.1:1', spool: { dir: '/tmp/spool-option' } });
    producers.push(s3, file);
    expect(s3.spool).toBeInstanceOf(S3Spool);
    expect(file.spool).toBeInstanceOf(FileSpool);
  });

  it('refuses a string that is not an s3:// URL, by name', () => {
    expect(() => createProducer({ endpoints: '127.0.0.1:1', spool: 'ftp://bucket' as never })).toThrow(
      expect.objectContaining({
        code: ErrorCode.CONFIG_INVALID,
        message: expect.stringMatching(/s3:\/\/bucket\/prefix/),
      }),
    );
  });
});
