/**
 * A local S3 server for `npm start -- --spool s3`: s3rver (the local S3 of serverless-offline users) on
 * loopback, storing into a temporary directory that is removed on stop, with one bucket. s3rver 3.7
 * ignores `If-None-Match: *` on PutObject, which the object spool's claims depend on (and refuses to
 * redeliver without: AWS S3 honours it); a small middleware in front of it answers such a PUT with 412
 * when the key exists, one PUT per key at a time.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

export interface LocalS3 {
  readonly endpoint: string;
  readonly bucket: string;
  stop(): Promise<void>;
}

/** s3rver's fixed credentials: it checks signatures against these. */
export const LOCAL_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface Context {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  status: number;
  type: string;
  body: unknown;
}

export type Middleware = (ctx: Context, next: () => Promise<void>) => Promise<void>;

/** The part of s3rver's store the middleware asks. */
export interface ObjectStore {
  existsObject(bucket: string, key: string): Promise<boolean>;
}

/**
 * Middleware for s3rver: a PUT with `If-None-Match: *` is answered 412 when the key exists, one such PUT
 * per key at a time, as AWS S3 does (s3rver 3.7 ignores the header).
 */
export function createOnlyIfAbsent(store: ObjectStore): Middleware {
  const perKey = new Map<string, Promise<void>>();
  return async (ctx, next) => {
    if (ctx.method !== 'PUT' || ctx.headers['if-none-match'] !== '*') return next();
    const [, bucketName = '', ...rest] = ctx.path.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const slot = `${bucketName}/${key}`;
    const before = perKey.get(slot) ?? Promise.resolve();
    let done = () => {};
    const turn = new Promise<void>((resolve) => {
      done = resolve;
    });
    const mine = before.then(() => turn);
    perKey.set(slot, mine);
    await before;
    try {
      if (await store.existsObject(bucketName, key)) {
        ctx.status = 412;
        ctx.type = 'application/xml';
        ctx.body =
          '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>';
        return;
      }
      await next();
    } finally {
      done();
      if (perKey.get(slot) === mine) perKey.delete(slot);
    }
  };
}

export async function startLocalS3(options: { port?: number; bucket?: string } = {}): Promise<LocalS3> {
  const bucket = options.bucket ?? 'spool';
  const directory = await mkdtemp(join(tmpdir(), 'rocketmq-local-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket, configs: [] }],
  }) as unknown as {
    middleware: Middleware[];
    store: ObjectStore;
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
  };
  server.middleware.unshift(createOnlyIfAbsent(server.store));
  let address: AddressInfo;
  try {
    address = await server.run();
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    bucket,
    async stop() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/**
 * The variables that give the functions of this process an object spool on the local server: the URL,
 * the endpoint, path-style requests and s3rver's credentials (the process's own AWS credentials, if any,
 * are replaced: nothing here is meant for AWS).
 */
export function localSpoolEnvironment(s3: LocalS3, prefix = 'dev'): Record<string, string> {
  return {
    ROCKETMQ_SPOOL_URL: `s3://${s3.bucket}/${prefix}`,
    ROCKETMQ_SPOOL_S3_ENDPOINT: s3.endpoint,
    ROCKETMQ_SPOOL_S3_PATH_STYLE: 'true',
    ROCKETMQ_SPOOL_S3_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
  };
}

export interface DevObjectSpool {
  readonly s3: LocalS3;
  /** The banner lines: where the spool is and how to watch a spooled message come back. */
  banner(url: string): string[];
  stop(): Promise<void>;
}

/**
 * `npm start -- --spool s3`: starts the local S3 server and points this process's functions at it
 * (ROCKETMQ_SPOOL_URL and the endpoint variables), before any function creates its producer.
 */
export async function startDevObjectSpool(): Promise<DevObjectSpool> {
  const s3 = await startLocalS3();
  const environment = localSpoolEnvironment(s3);
  Object.assign(process.env, environment);
  return {
    s3,
    banner: (url) => [
      `Object spool: ${environment.ROCKETMQ_SPOOL_URL}/ on a local S3 server (s3rver) at ${s3.endpoint}.`,
      'Watch a spooled message come back:',
      `  curl -s -X POST '${url}/_dev/broker?sends=fail'   # the broker refuses every send from now on`,
      `  curl -s -X POST ${url}/_dev/oss                   # object-fanout's async sends fail and are spooled`,
      `  curl -s ${url}/_dev/spool                         # the records, in the bucket`,
      `  curl -s -X POST '${url}/_dev/broker?sends=ok'     # the broker is back`,
      `  curl -s -X POST '${url}/_dev/timer?function=spool-redeliver'   # resent: they appear below`,
      '',
    ],
    stop: () => s3.stop(),
  };
}
