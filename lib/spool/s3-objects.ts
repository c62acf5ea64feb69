import { ErrorCode, RocketMQError } from '../errors.js';
import { connectS3, type S3ClientLike, type S3ClientOptions, type S3Sdk } from './s3-client.js';

/**
 * The S3 calls an {@link S3Spool} makes, each in the one form the spool needs: create an object only if
 * it is absent, read one up to a size, delete, list under a prefix, copy without reading. Nothing here
 * knows about segments or leases; the store's answers are turned into values (`false`, `undefined`,
 * `{ tooLarge }`) where the spool has a use for them, and thrown otherwise.
 */

/** An object bigger than a read may take: its size as the store announced it, or as far as it was read. */
export interface TooLarge {
  tooLarge: number;
}

export interface ListedObject {
  key: string;
  lastModified: number;
  size: number;
}

/** Requests made, by kind: for tests and the README's cost figures. */
export interface RequestCounts {
  put: number;
  get: number;
  list: number;
  delete: number;
}

const TEXT = 'text/plain; charset=utf-8';

function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

/** A conditional write that lost: the key exists (412), or a concurrent conditional write is under way (409). */
function lostCondition(error: unknown): boolean {
  const status = httpStatus(error);
  const name = (error as { name?: string })?.name;
  return status === 412 || status === 409 || name === 'PreconditionFailed';
}

function notFound(error: unknown): boolean {
  const name = (error as { name?: string })?.name;
  return httpStatus(error) === 404 || name === 'NoSuchKey' || name === 'NotFound';
}

/** SPOOL_FAILED naming the spool, the store's error name and HTTP status; a RocketMQError passes as it is. */
export function spoolFailure(location: string, what: string, cause: unknown, topic?: string): RocketMQError {
  if (cause instanceof RocketMQError) return cause;
  const status = httpStatus(cause);
  const name = (cause as { name?: string })?.name ?? 'Error';
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new RocketMQError(
    ErrorCode.SPOOL_FAILED,
    `could not ${what} the spool at ${location}: ${name}${status ? ` (HTTP ${status})` : ''}: ${reason}`,
    { cause, topic },
  );
}

export class S3Objects {
  readonly bucket: string;
  readonly requests: RequestCounts = { put: 0, get: 0, list: 0, delete: 0 };
  readonly #options: S3ClientOptions;
  #connected: Promise<{ sdk: S3Sdk; client: S3ClientLike }> | undefined;

  constructor(bucket: string, options: S3ClientOptions) {
    this.bucket = bucket;
    this.#options = options;
  }

  /** The SDK and client, made once; a failed attempt (no SDK installed) is tried again next time. */
  #connect(): Promise<{ sdk: S3Sdk; client: S3ClientLike }> {
    this.#connected ??= connectS3(this.#options).catch((error: unknown) => {
      this.#connected = undefined;
      throw error;
    });
    return this.#connected;
  }

  async #send(kind: keyof RequestCounts, command: (sdk: S3Sdk) => unknown): Promise<unknown> {
    const { sdk, client } = await this.#connect();
    this.requests[kind]++;
    return client.send(command(sdk));
  }

  /** Creates `key` only if it does not exist yet; false when it does. */
  async create(key: string, body: string): Promise<boolean> {
    try {
      await this.#send(
        'put',
        (sdk) =>
          new sdk.PutObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Body: body,
            IfNoneMatch: '*',
            ContentType: TEXT,
          }),
      );
      return true;
    } catch (error) {
      if (lostCondition(error)) return false;
      throw error;
    }
  }

  /**
   * The object's text; undefined when it does not exist; `{ tooLarge }` when it is bigger than
   * `maxBytes`, in which case the response body is dropped after at most `maxBytes` of it were read.
   */
  async get(key: string, maxBytes: number): Promise<string | TooLarge | undefined> {
    try {
      const output = (await this.#send(
        'get',
        (sdk) => new sdk.GetObjectCommand({ Bucket: this.bucket, Key: key }),
      )) as {
        ContentLength?: number;
        Body?: {
          transformToString(encoding?: string): Promise<string>;
          destroy?(): void;
          [Symbol.asyncIterator]?(): AsyncIterator<Uint8Array>;
        };
      };
      const body = output.Body;
      if (!body) return '';
      if (output.ContentLength !== undefined && output.ContentLength > maxBytes) {
        body.destroy?.();
        return { tooLarge: output.ContentLength };
      }
      if (typeof body[Symbol.asyncIterator] !== 'function') return await body.transformToString('utf-8');
      // Counted as it arrives: a length the store did not announce (or got wrong) is no way around the cap.
      const chunks: Uint8Array[] = [];
      let bytes = 0;
      for await (const chunk of body as AsyncIterable<Uint8Array>) {
        bytes += chunk.byteLength;
        if (bytes > maxBytes) {
          body.destroy?.();
          return { tooLarge: output.ContentLength ?? bytes };
        }
        chunks.push(chunk);
      }
      return Buffer.concat(chunks).toString('utf8');
    } catch (error) {
      if (notFound(error)) return undefined;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await this.#send('delete', (sdk) => new sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  /** Every object under `prefix`, in key order, through as many pages as the store returns. */
  async list(prefix: string): Promise<ListedObject[]> {
    const found: ListedObject[] = [];
    let token: string | undefined;
    do {
      const page = (await this.#send(
        'list',
        (sdk) =>
          new sdk.ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            ...(token !== undefined && { ContinuationToken: token }),
          }),
      )) as {
        Contents?: { Key?: string; LastModified?: Date; Size?: number }[];
        IsTruncated?: boolean;
        NextContinuationToken?: string;
      };
      for (const entry of page.Contents ?? []) {
        if (entry.Key) {
          found.push({
            key: entry.Key,
            lastModified: entry.LastModified?.getTime() ?? 0,
            size: entry.Size ?? 0,
          });
        }
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return found.sort((a, b) => (a.key < b.key ? -1 : 1));
  }

  /**
   * Copies `source` to `target` on the server, nothing of it read here, with `metadata` replacing the
   * source's. False when the SDK given has no CopyObjectCommand.
   */
  async copyUnread(source: string, target: string, metadata: Record<string, string>): Promise<boolean> {
    const { sdk } = await this.#connect();
    const Copy = sdk.CopyObjectCommand;
    if (!Copy) return false;
    await this.#send(
      'put',
      () =>
        new Copy({
          Bucket: this.bucket,
          Key: target,
          CopySource: `${this.bucket}/${source.split('/').map(encodeURIComponent).join('/')}`,
          MetadataDirective: 'REPLACE',
          ContentType: TEXT,
          Metadata: metadata,
        }),
    );
    return true;
  }
}
