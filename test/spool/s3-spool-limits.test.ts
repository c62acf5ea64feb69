import { describe, expect, it } from 'vitest';
import { MAX_SEGMENT_BYTES, type S3Sdk, S3Spool } from '../../lib/spool/s3-spool.js';

/**
 * The segment size cap when the listing does not give it away: a fake S3 client (named as such) whose
 * listing reports a small segment and whose GetObject streams far more, without a Content-Length. The
 * spool must stop reading past the cap and quarantine the object by a copy, not read it whole.
 */

class Command {
  constructor(readonly input: Record<string, unknown>) {}
}
const fakeSdk = {
  S3Client: class {},
  PutObjectCommand: class Put extends Command {},
  GetObjectCommand: class Get extends Command {},
  DeleteObjectCommand: class Delete extends Command {},
  ListObjectsV2Command: class List extends Command {},
  CopyObjectCommand: class Copy extends Command {},
} as unknown as S3Sdk;

const CHUNK = 256 * 1024;

function fakeStore(segmentKey: string) {
  const objects = new Map<string, string>([[segmentKey, '']]);
  const calls: string[] = [];
  let streamed = 0;
  let destroyed = false;
  const client = {
    async send(command: Command): Promise<unknown> {
      const kind = command.constructor.name;
      const key = String(command.input.Key ?? command.input.Prefix ?? '');
      calls.push(`${kind} ${key}`);
      if (kind === 'Put') {
        if (command.input.IfNoneMatch === '*' && objects.has(key)) {
          throw Object.assign(new Error('exists'), { $metadata: { httpStatusCode: 412 } });
        }
        objects.set(key, String(command.input.Body));
        return {};
      }
      if (kind === 'Delete') {
        objects.delete(key);
        return {};
      }
      if (kind === 'List') {
        const Contents = [...objects.keys()]
          .filter((k) => k.startsWith(key))
          .sort()
          .map((Key) => ({ Key, LastModified: new Date(), Size: Key === segmentKey ? 100 : 10 }));
        return { Contents, IsTruncated: false };
      }
      if (kind === 'Copy') {
        objects.set(key, `copy of ${String(command.input.CopySource)}`);
        return {};
      }
      if (kind === 'Get') {
        if (!objects.has(key))
          throw Object.assign(new Error('NoSuchKey'), {
            name: 'NoSuchKey',
            $metadata: { httpStatusCode: 404 },
          });
        if (key !== segmentKey) return { Body: { transformToString: async () => objects.get(key) } };
        // No Content-Length, and no end: a reader that does not count would never stop.
        const body = {
          async *[Symbol.asyncIterator]() {
            for (;;) {
              if (destroyed) return;
              streamed += CHUNK;
              yield new Uint8Array(CHUNK).fill(0x61);
            }
          },
          transformToString: async () => expect.unreachable('read whole'),
          destroy() {
            destroyed = true;
          },
        };
        return { Body: body };
      }
      throw new Error(`unexpected ${kind}`);
    },
  };
  return {
    objects,
    calls,
    client,
    get streamed() {
      return streamed;
    },
    get destroyed() {
      return destroyed;
    },
  };
}

describe('S3Spool segment size cap', () => {
  it('a segment streaming past the cap is read no further than the cap and quarantined once by a copy', async () => {
    const name = '000000000000001-ffffffffffff.seg';
    const store = fakeStore(`p/segments/${name}`);
    const spool = new S3Spool({ url: 's3://spool/p', sdk: fakeSdk, client: store.client });
    const report = await spool.redeliver(async () => expect.unreachable('nothing may be sent'));
    expect(report).toEqual({ delivered: 0, failed: 0, rejected: 0, quarantined: 1, remaining: 0 });
    expect(store.destroyed).toBe(true);
    expect(store.streamed).toBeLessThanOrEqual(MAX_SEGMENT_BYTES + CHUNK);
    expect(store.objects.get(`p/quarantine/${name}`)).toBe(`copy of spool/p/segments/${name}`);
    expect(store.objects.has(`p/segments/${name}`)).toBe(false);
    expect([...store.objects.keys()].filter((key) => key.startsWith('p/leases/'))).toEqual([]);
    expect(store.calls.filter((call) => call.startsWith('Copy'))).toEqual([`Copy p/quarantine/${name}`]);
  });
});
