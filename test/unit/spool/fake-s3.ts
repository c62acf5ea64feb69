import type { S3ClientLike, S3Sdk } from '../../../lib/spool/s3-spool.js';

/**
 * A fake of the S3 API for unit tests of the object spool: an in-memory bucket behind the few SDK
 * commands the spool sends, with S3's answers for a lost condition (412) and a missing key (404). It
 * logs every request (`PUT key`, `GET key`, …) so a test can check the order of the protocol's steps,
 * and can be told to ignore `If-None-Match` (as some S3-compatible stores do) or to fail a request.
 */

interface StoredObject {
  body: string;
  lastModified: number;
  metadata?: Record<string, string>;
}

abstract class Command {
  abstract readonly verb: string;
  constructor(readonly input: Record<string, unknown>) {}
}
class PutObjectCommand extends Command {
  readonly verb = 'PUT';
}
class GetObjectCommand extends Command {
  readonly verb = 'GET';
}
class DeleteObjectCommand extends Command {
  readonly verb = 'DELETE';
}
class ListObjectsV2Command extends Command {
  readonly verb = 'LIST';
}
class CopyObjectCommand extends Command {
  readonly verb = 'COPY';
}

const storeError = (name: string, status: number) =>
  Object.assign(new Error(`${name} (fake S3)`), { name, $metadata: { httpStatusCode: status } });

export class FakeS3 {
  readonly objects = new Map<string, StoredObject>();
  readonly log: string[] = [];
  /** Every object written, in order, with its body: what was there even after it was deleted. */
  readonly written: { key: string; body: string }[] = [];
  /** False: a create-only PUT overwrites like a plain one, as stores that ignore the header do. */
  honoursConditions = true;
  /** Keys per list page, so the spool's paging is exercised. */
  pageSize = 1000;
  /** Called before each request; an error it returns is what the store answers. */
  fault: ((request: string) => Error | undefined) | undefined;

  /** The SDK module the spool is given; `copy: false` is an SDK without CopyObjectCommand. */
  sdk(options: { copy?: boolean } = {}): S3Sdk {
    const store = this;
    class S3Client implements S3ClientLike {
      send(command: unknown): Promise<unknown> {
        return store.#answer(command as Command);
      }
    }
    return {
      S3Client,
      PutObjectCommand,
      GetObjectCommand,
      DeleteObjectCommand,
      ListObjectsV2Command,
      ...(options.copy !== false && { CopyObjectCommand }),
    };
  }

  /** Puts an object as another writer would, with a chosen modification time. */
  put(key: string, body: string, lastModified = Date.now()): void {
    this.objects.set(key, { body, lastModified });
  }

  /** Keys under `prefix`, in order. */
  keys(prefix = ''): string[] {
    return [...this.objects.keys()].filter((key) => key.startsWith(prefix)).sort();
  }

  async #answer(command: Command): Promise<unknown> {
    // Answered on a later turn, as a real request is.
    await Promise.resolve();
    const input = command.input;
    const key = String(input.Key ?? input.Prefix);
    const request = `${command.verb} ${key}`;
    this.log.push(request);
    const fault = this.fault?.(request);
    if (fault) throw fault;
    if (command instanceof PutObjectCommand) {
      if (this.objects.has(key) && input.IfNoneMatch === '*' && this.honoursConditions) {
        throw storeError('PreconditionFailed', 412);
      }
      this.objects.set(key, { body: String(input.Body), lastModified: Date.now() });
      this.written.push({ key, body: String(input.Body) });
      return {};
    }
    if (command instanceof GetObjectCommand) {
      const found = this.objects.get(key);
      if (!found) throw storeError('NoSuchKey', 404);
      return {
        ContentLength: Buffer.byteLength(found.body),
        Body: { transformToString: async () => found.body },
      };
    }
    if (command instanceof DeleteObjectCommand) {
      this.objects.delete(key);
      return {};
    }
    if (command instanceof CopyObjectCommand) {
      const source = decodeURIComponent(String(input.CopySource).split('/').slice(1).join('/'));
      const found = this.objects.get(source);
      if (!found) throw storeError('NoSuchKey', 404);
      const metadata = input.Metadata as Record<string, string>;
      this.objects.set(key, { body: found.body, lastModified: Date.now(), metadata });
      return {};
    }
    const all = this.keys(key);
    const start = input.ContinuationToken === undefined ? 0 : Number(input.ContinuationToken);
    const page = all.slice(start, start + this.pageSize);
    const truncated = start + this.pageSize < all.length;
    return {
      Contents: page.map((name) => {
        const object = this.objects.get(name) as StoredObject;
        return {
          Key: name,
          LastModified: new Date(object.lastModified),
          Size: Buffer.byteLength(object.body),
        };
      }),
      IsTruncated: truncated,
      ...(truncated && { NextContinuationToken: String(start + this.pageSize) }),
    };
  }
}
