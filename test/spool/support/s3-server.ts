/**
 * A real S3-protocol server for the object-spool tests: s3rver (the local S3 of serverless-offline
 * users) on loopback, storing into a temporary directory. Two things are added in front of it, both
 * named for what they are:
 * - the conditional-create middleware of `npm start -- --spool s3` (infra/local-s3.ts): s3rver 3.7
 *   ignores `If-None-Match: *` on PutObject, which AWS S3 honours. Without it (`conditionalWrites:
 *   false`) the server is s3rver as it is, which the spool must detect;
 * - fault injection: PUTs answered with a chosen status (507 for a full store, 500/503), as a store
 *   that is failing would.
 * Request counts per method and key area let tests check how many requests a flush or a redelivery made.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { createOnlyIfAbsent } from '../../../infra/local-s3.js';

export interface S3Server {
  readonly endpoint: string;
  readonly bucket: string;
  /** `{ 'PUT segments': 3, 'GET leases': 1, … }`: method and the key's area under the spool prefix. */
  readonly requests: Map<string, number>;
  /** From now on every PUT whose key contains `match` is answered with `status` (until `reset`). */
  failPuts(status: number, code: string, match?: string): void;
  reset(): void;
  stop(): Promise<void>;
}

const ERROR_XML = (code: string, message: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;

interface KoaContext {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  status: number;
  type: string;
  body: unknown;
  app: { store: { existsObject(bucket: string, key: string): Promise<boolean> } };
}

export async function startS3Server(
  options: { conditionalWrites?: boolean; bucket?: string } = {},
): Promise<S3Server> {
  const bucket = options.bucket ?? 'spool';
  const directory = await mkdtemp(join(tmpdir(), 's3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket, configs: [] }],
  }) as unknown as {
    middleware: ((ctx: KoaContext, next: () => Promise<void>) => Promise<void>)[];
    store: KoaContext['app']['store'];
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
  };
  const requests = new Map<string, number>();
  let fault: { status: number; code: string; match: string } | undefined;
  const conditional = createOnlyIfAbsent(server.store);

  const shim = async (ctx: KoaContext, next: () => Promise<void>) => {
    const [, , ...rest] = ctx.path.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const area = /(?:^|\/)(segments|leases|quarantine|probe)\//.exec(key)?.[1] ?? 'other';
    const label = key === '' ? `${ctx.method} bucket` : `${ctx.method} ${area}`;
    requests.set(label, (requests.get(label) ?? 0) + 1);
    if (ctx.method === 'PUT' && fault && key.includes(fault.match)) {
      ctx.status = fault.status;
      ctx.type = 'application/xml';
      ctx.body = ERROR_XML(fault.code, 'injected fault');
      return;
    }
    if (options.conditionalWrites === false) return next();
    return conditional(ctx, next);
  };
  server.middleware.unshift(shim);
  const address = await server.run();
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    bucket,
    requests,
    failPuts(status, code, match = '') {
      fault = { status, code, match };
    },
    reset() {
      fault = undefined;
      requests.clear();
    },
    async stop() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** Client settings for the server: path style, s3rver's fixed credentials. */
export function clientOptions(server: S3Server) {
  return {
    endpoint: server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  };
}
