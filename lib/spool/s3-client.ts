import { ConfigError } from '../errors.js';

/**
 * Reaching the object store behind an {@link S3Spool}: where the spool lives (`s3://bucket/prefix`),
 * which endpoint, region and credentials the client uses, and the SDK itself.
 *
 * The SDK (`@aws-sdk/client-s3`, an optional peer dependency) is loaded on first use, by a dynamic import
 * a bundler does not follow, so a function that does not use this spool carries none of it. Where the
 * SDK is not installed beside the function (FC), pass it: `new S3Spool({ url, sdk: await import('@aws-sdk/client-s3') })`
 * or `import * as sdk from '@aws-sdk/client-s3'`, which bundles it.
 */

const SDK_MODULE = '@aws-sdk/client-s3';

/** The part of an S3 client the spool uses: `@aws-sdk/client-s3`'s `S3Client` has it. */
export interface S3ClientLike {
  send(command: unknown): Promise<unknown>;
  middlewareStack?: { add(middleware: unknown, options: unknown): void };
}

/**
 * A class of the SDK; its input type is the SDK's own, which this module does not depend on (the SDK is
 * an optional peer).
 */
// biome-ignore lint/suspicious/noExplicitAny: accepts the SDK's classes whatever their input types
type SdkClass<T = unknown> = new (input: any) => T;

/** The parts of the `@aws-sdk/client-s3` module the spool uses. */
export interface S3Sdk {
  S3Client: SdkClass<S3ClientLike>;
  PutObjectCommand: SdkClass;
  GetObjectCommand: SdkClass;
  DeleteObjectCommand: SdkClass;
  ListObjectsV2Command: SdkClass;
  /** Moves an oversized segment to quarantine without reading it; without it such a segment is skipped. */
  CopyObjectCommand?: SdkClass;
}

/** How the spool's client is made; part of the spool's options. */
export interface S3ClientOptions {
  /**
   * The store's endpoint; unset for AWS S3. For OSS its S3-compatible endpoint, e.g.
   * `https://oss-cn-hangzhou.aliyuncs.com` (or `-internal` inside the region). Env `ROCKETMQ_SPOOL_S3_ENDPOINT`.
   */
  endpoint?: string;
  /** Env `ROCKETMQ_SPOOL_S3_REGION`, then `AWS_REGION`; for an OSS endpoint, taken from its host name. */
  region?: string;
  /**
   * Path-style requests (`<endpoint>/<bucket>/<key>`): for local servers. OSS refuses them. Env
   * `ROCKETMQ_SPOOL_S3_PATH_STYLE=true`. @default false
   */
  forcePathStyle?: boolean;
  /**
   * @default the SDK's own chain (env `AWS_ACCESS_KEY_ID`…, the Lambda role); on an OSS endpoint without
   * those, `ALIBABA_CLOUD_ACCESS_KEY_ID` / `_SECRET` / `ALIBABA_CLOUD_SECURITY_TOKEN` (FC's role credentials)
   */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** The SDK module, when a bundle must carry it. @default loaded on first use */
  sdk?: S3Sdk;
  /** A ready client (its own endpoint, credentials, retries); `sdk` is still needed for the commands. */
  client?: S3ClientLike;
}

/** Parses `s3://bucket/prefix`; the prefix always ends in `/` (or is empty). */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!match) {
    throw new ConfigError(
      `spool URL must look like s3://bucket/prefix (bucket: lowercase letters, digits, '.', '-'), got ${JSON.stringify(url)}`,
    );
  }
  const raw = (match[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (raw.split('/').some((part) => part === '..' || part === '.')) {
    throw new ConfigError(`spool URL prefix must not contain '.' or '..' parts: ${url}`);
  }
  return { bucket: match[1] as string, prefix: raw === '' ? '' : `${raw}/` };
}

const isOssEndpoint = (endpoint: string | undefined) =>
  endpoint !== undefined && /(^|\.)aliyuncs\.com(:\d+)?(\/|$)/.test(endpoint.replace(/^https?:\/\//, ''));

/** The SDK module and a client; the SDK is imported here unless the options carry it. */
export async function connectS3(options: S3ClientOptions): Promise<{ sdk: S3Sdk; client: S3ClientLike }> {
  let sdk = options.sdk;
  if (!sdk) {
    try {
      // A variable, not a literal: bundlers leave the SDK out of functions that never get here.
      sdk = (await import(/* @vite-ignore */ SDK_MODULE)) as S3Sdk;
    } catch (error) {
      throw new ConfigError(
        `the S3 spool needs ${SDK_MODULE}: install it beside the function, or pass it as the spool's sdk option so the bundle carries it`,
        { cause: error },
      );
    }
  }
  const client = options.client ?? new sdk.S3Client(clientConfig(options, process.env));
  if (isOssEndpoint(options.endpoint ?? process.env.ROCKETMQ_SPOOL_S3_ENDPOINT)) forbidOverwrite(client);
  return { sdk, client };
}

/** The `S3Client` configuration: options first, then the environment, then the SDK's own defaults. */
export function clientConfig(options: S3ClientOptions, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const endpoint = options.endpoint ?? env.ROCKETMQ_SPOOL_S3_ENDPOINT;
  const oss = isOssEndpoint(endpoint);
  const ossRegion = oss
    ? /oss-([a-z0-9-]+?)(?:-internal)?\.aliyuncs\.com/.exec(endpoint ?? '')?.[1]
    : undefined;
  const region = options.region ?? env.ROCKETMQ_SPOOL_S3_REGION ?? ossRegion ?? env.AWS_REGION ?? 'us-east-1';
  const forcePathStyle = options.forcePathStyle ?? env.ROCKETMQ_SPOOL_S3_PATH_STYLE === 'true';
  let credentials = options.credentials;
  if (
    !credentials &&
    oss &&
    !env.AWS_ACCESS_KEY_ID &&
    env.ALIBABA_CLOUD_ACCESS_KEY_ID &&
    env.ALIBABA_CLOUD_ACCESS_KEY_SECRET
  ) {
    credentials = {
      accessKeyId: env.ALIBABA_CLOUD_ACCESS_KEY_ID,
      secretAccessKey: env.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
      ...(env.ALIBABA_CLOUD_SECURITY_TOKEN && { sessionToken: env.ALIBABA_CLOUD_SECURITY_TOKEN }),
    };
  }
  return {
    region,
    forcePathStyle,
    // The SDK's default CRC trailers on every upload are not understood by every S3-compatible store.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(endpoint !== undefined && { endpoint }),
    ...(credentials !== undefined && { credentials }),
  };
}

/**
 * OSS's own create-only header, sent beside `If-None-Match` on an OSS endpoint: its S3 compatibility
 * list does not name conditional writes, while its native PutObject documents `x-oss-forbid-overwrite`.
 */
function forbidOverwrite(client: S3ClientLike): void {
  client.middlewareStack?.add(
    (next: (args: unknown) => Promise<unknown>) =>
      async (args: { request?: { headers?: Record<string, string> } }) => {
        const headers = args.request?.headers;
        if (headers && (headers['if-none-match'] === '*' || headers['If-None-Match'] === '*')) {
          headers['x-oss-forbid-overwrite'] = 'true';
        }
        return next(args);
      },
    { step: 'build', name: 'rocketmqOssForbidOverwrite' },
  );
}
