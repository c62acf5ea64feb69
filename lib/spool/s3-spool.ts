import { ErrorCode, RocketMQError } from '../errors.js';
import type { PreparedMessage } from '../message.js';
import { GroupCommit, MAX_FLUSH_BYTES } from './group-commit.js';
import {
  DEFAULT_LEASE_MS,
  emptyReport,
  exhausted,
  newOwner,
  newSegmentName,
  resendOne,
  settleFailure,
} from './redeliver.js';
import { encodeRecord, parseSegment } from './segment.js';
import type { RedeliverOptions, RedeliverReport, Spool, SpoolRecord, SpoolSender } from './spool.js';

/**
 * Failed messages kept in object storage over the S3 API: AWS S3, or Alibaba Cloud OSS through its
 * S3-compatible endpoint. Unlike a file spool in the instance's `/tmp`, what it holds outlives the
 * instance, and any instance can redeliver it.
 *
 * Layout under `<prefix>`: `segments/<15-digit ms>-<hex>.seg` (the file spool's segment format, one
 * object per flush, keys sorting by time; a record's id is `<key>:<line>`), `leases/<segment>/<n>`
 * (claims, see {@link S3Spool.redeliver}), `quarantine/…`.
 *
 * The SDK (`@aws-sdk/client-s3`, an optional peer dependency) is loaded on first use, by a dynamic import
 * a bundler does not follow, so a function that does not use this spool carries none of it. Where the
 * SDK is not installed beside the function (FC), pass it: `new S3Spool({ url, sdk: await import('@aws-sdk/client-s3') })`
 * or `import * as sdk from '@aws-sdk/client-s3'`, which bundles it.
 */

const SDK_MODULE = '@aws-sdk/client-s3';
const SEGMENT_SUFFIX = '.seg';
/**
 * The largest segment a redeliverer reads (segments are read whole): twice what a flush writes. A bigger
 * object was not written by a spool; it is moved to quarantine by a server-side copy, never read.
 */
export const MAX_SEGMENT_BYTES = 2 * MAX_FLUSH_BYTES;
const GENERATION_DIGITS = 10;
export const DEFAULT_S3_QUARANTINE_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;
export const DEFAULT_S3_QUARANTINE_MAX_OBJECTS = 1000;

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

export interface S3SpoolOptions {
  /** `s3://bucket/prefix`. Env `ROCKETMQ_SPOOL_URL`. */
  url?: string;
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
  /** How long a claim on a segment lasts without renewal. @default 60 s */
  leaseMs?: number;
  /** Quarantined objects older than this are deleted by the next redelivery. @default 7 days */
  quarantineMaxAgeMs?: number;
  /** At most this many quarantined objects are kept, the newest. @default 1,000 */
  quarantineMaxObjects?: number;
}

/** A claim on a segment: the object `leases/<segment>/<generation>`, created only if absent. */
interface Lease {
  segment: string;
  generation: number;
  expiresAt: number;
  done: number;
}

/** An object bigger than a read may take: its size as the store announced it, or as far as it was read. */
interface TooLarge {
  tooLarge: number;
}

/** A claim is a line of JSON; anything much bigger is not one. */
const MAX_LEASE_BYTES = 64 * 1024;

interface ListedObject {
  key: string;
  lastModified: number;
  size: number;
}

/** Parses `s3://bucket/prefix`; the prefix always ends in `/` (or is empty). */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!match) {
    throw new RocketMQError(
      ErrorCode.CONFIG_INVALID,
      `spool URL must look like s3://bucket/prefix (bucket: lowercase letters, digits, '.', '-'), got ${JSON.stringify(url)}`,
    );
  }
  const raw = (match[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (raw.split('/').some((part) => part === '..' || part === '.')) {
    throw new RocketMQError(
      ErrorCode.CONFIG_INVALID,
      `spool URL prefix must not contain '.' or '..' parts: ${url}`,
    );
  }
  return { bucket: match[1] as string, prefix: raw === '' ? '' : `${raw}/` };
}

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

function positive(value: number, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RocketMQError(
      ErrorCode.CONFIG_INVALID,
      `S3Spool ${name} must be a number > 0, got ${String(value)}`,
    );
  }
  return value;
}

const isOssEndpoint = (endpoint: string | undefined) =>
  endpoint !== undefined && /(^|\.)aliyuncs\.com(:\d+)?(\/|$)/.test(endpoint.replace(/^https?:\/\//, ''));

export class S3Spool implements Spool {
  readonly bucket: string;
  readonly prefix: string;
  /** `s3://bucket/prefix`, for messages; carries no credentials. */
  readonly location: string;
  readonly #options: S3SpoolOptions;
  readonly #owner = newOwner();
  readonly #leaseMs: number;
  readonly #quarantineMaxAgeMs: number;
  readonly #quarantineMaxObjects: number;
  #loaded: Promise<{ sdk: S3Sdk; client: S3ClientLike }> | undefined;
  #conditionalWrites: Promise<void> | undefined;
  readonly #commit = new GroupCommit(async (lines) => {
    const name = newSegmentName(SEGMENT_SUFFIX);
    // A fresh random name: the condition only guards against the impossible collision.
    if (!(await this.#create(`${this.#segments}${name}`, lines)))
      throw new Error(`segment ${name} exists already`);
    return name;
  });
  #redelivering: Promise<RedeliverReport> | undefined;
  /** Requests made, by kind: for tests and the README's cost figures. */
  readonly requests = { put: 0, get: 0, list: 0, delete: 0 };

  constructor(options: S3SpoolOptions = {}) {
    const url = options.url ?? process.env.ROCKETMQ_SPOOL_URL;
    if (!url) {
      throw new RocketMQError(
        ErrorCode.CONFIG_INVALID,
        'S3Spool needs a url (s3://bucket/prefix) or ROCKETMQ_SPOOL_URL',
      );
    }
    const { bucket, prefix } = parseS3Url(url);
    this.bucket = bucket;
    this.prefix = prefix;
    this.location = `s3://${bucket}/${prefix}`;
    this.#options = options;
    this.#leaseMs = positive(options.leaseMs ?? DEFAULT_LEASE_MS, 'leaseMs');
    this.#quarantineMaxAgeMs = positive(
      options.quarantineMaxAgeMs ?? DEFAULT_S3_QUARANTINE_MAX_AGE_MS,
      'quarantineMaxAgeMs',
    );
    this.#quarantineMaxObjects = positive(
      options.quarantineMaxObjects ?? DEFAULT_S3_QUARANTINE_MAX_OBJECTS,
      'quarantineMaxObjects',
    );
  }

  #load(): Promise<{ sdk: S3Sdk; client: S3ClientLike }> {
    this.#loaded ??= (async () => {
      let sdk = this.#options.sdk;
      if (!sdk) {
        try {
          // A variable, not a literal: bundlers leave the SDK out of functions that never get here.
          sdk = (await import(/* @vite-ignore */ SDK_MODULE)) as S3Sdk;
        } catch (error) {
          throw new RocketMQError(
            ErrorCode.CONFIG_INVALID,
            `the S3 spool needs ${SDK_MODULE}: install it beside the function, or pass it as the spool's sdk option so the bundle carries it`,
            { cause: error },
          );
        }
      }
      const client = this.#options.client ?? new sdk.S3Client(this.#clientConfig());
      if (isOssEndpoint(this.#options.endpoint ?? process.env.ROCKETMQ_SPOOL_S3_ENDPOINT))
        forbidOverwrite(client);
      return { sdk, client };
    })().catch((error: unknown) => {
      this.#loaded = undefined;
      throw error;
    });
    return this.#loaded;
  }

  #clientConfig(): Record<string, unknown> {
    const env = process.env;
    const endpoint = this.#options.endpoint ?? env.ROCKETMQ_SPOOL_S3_ENDPOINT;
    const oss = isOssEndpoint(endpoint);
    const ossRegion = oss
      ? /oss-([a-z0-9-]+?)(?:-internal)?\.aliyuncs\.com/.exec(endpoint ?? '')?.[1]
      : undefined;
    const region =
      this.#options.region ?? env.ROCKETMQ_SPOOL_S3_REGION ?? ossRegion ?? env.AWS_REGION ?? 'us-east-1';
    const forcePathStyle = this.#options.forcePathStyle ?? env.ROCKETMQ_SPOOL_S3_PATH_STYLE === 'true';
    let credentials = this.#options.credentials;
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

  #error(what: string, cause: unknown, topic?: string): RocketMQError {
    if (cause instanceof RocketMQError) return cause;
    const status = httpStatus(cause);
    const name = (cause as { name?: string })?.name ?? 'Error';
    const reason = cause instanceof Error ? cause.message : String(cause);
    return new RocketMQError(
      ErrorCode.SPOOL_FAILED,
      `could not ${what} the spool at ${this.location}: ${name}${status ? ` (HTTP ${status})` : ''}: ${reason}`,
      { cause, topic },
    );
  }

  async #send(kind: keyof S3Spool['requests'], command: (sdk: S3Sdk) => unknown): Promise<unknown> {
    const { sdk, client } = await this.#load();
    this.requests[kind]++;
    return client.send(command(sdk));
  }

  /** Creates `key` only if it does not exist yet; false when it does. */
  async #create(key: string, body: string): Promise<boolean> {
    try {
      await this.#send(
        'put',
        (sdk) =>
          new sdk.PutObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Body: body,
            IfNoneMatch: '*',
            ContentType: 'text/plain; charset=utf-8',
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
  async #get(key: string, maxBytes: number): Promise<string | TooLarge | undefined> {
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

  async #delete(key: string): Promise<void> {
    await this.#send('delete', (sdk) => new sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async #list(prefix: string): Promise<ListedObject[]> {
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

  get #segments(): string {
    return `${this.prefix}segments/`;
  }

  #leasePrefix(segment: string): string {
    return `${this.prefix}leases/${segment}/`;
  }

  #leaseKey(lease: Lease): string {
    return `${this.#leasePrefix(lease.segment)}${lease.generation.toString().padStart(GENERATION_DIGITS, '0')}`;
  }

  // ---- append: group commit, one PutObject per flush ----

  get flushEstimateMs(): number {
    return this.#commit.flushEstimateMs;
  }

  /**
   * Queues the record for the next flush and resolves with its id once the store has acknowledged the
   * object holding it. Appends made in the same tick, or while a flush runs, share one PutObject.
   */
  append(message: PreparedMessage, error: { code: ErrorCode; message: string }): Promise<string> {
    const line = encodeRecord({ message, error, spooledAt: Date.now(), redeliveryAttempts: 0 });
    return this.#commit.append(line, (cause) => this.#error('write a record to', cause, message.topic));
  }

  // ---- reading ----

  #segmentName(key: string): string {
    return key.slice(this.#segments.length);
  }

  /** The latest claim on a segment, or undefined when there is none. */
  async #currentLease(segment: string): Promise<Lease | 'gone' | undefined> {
    const keys = await this.#list(this.#leasePrefix(segment));
    const last = keys.at(-1);
    if (!last) return undefined;
    const generation = Number(last.key.slice(this.#leasePrefix(segment).length));
    const text = await this.#get(last.key, MAX_LEASE_BYTES);
    // Deleted between the listing and the read: its holder finished the segment.
    if (text === undefined) return 'gone';
    try {
      if (typeof text !== 'string') throw new Error('oversized lease');
      const body = JSON.parse(text) as { expiresAt: unknown; done: unknown };
      const expiresAt = Number(body.expiresAt);
      const done = Number(body.done);
      if (
        !Number.isSafeInteger(generation) ||
        !Number.isFinite(expiresAt) ||
        !Number.isSafeInteger(done) ||
        done < 0
      ) {
        throw new Error('bad lease');
      }
      return { segment, generation, expiresAt, done };
    } catch {
      // An unreadable claim protects nothing: treat it as expired, keep its generation.
      return {
        segment,
        generation: Number.isSafeInteger(generation) ? generation : 0,
        expiresAt: 0,
        done: 0,
      };
    }
  }

  /** The segment's records; undefined when it is gone; `{ tooLarge }` (unread) when it is oversized. */
  async #readSegment(
    segment: string,
    listedSize = 0,
  ): Promise<{ text: string; records: SpoolRecord[]; corrupt: number } | TooLarge | undefined> {
    if (listedSize > MAX_SEGMENT_BYTES) return { tooLarge: listedSize };
    const text = await this.#get(`${this.#segments}${segment}`, MAX_SEGMENT_BYTES);
    if (text === undefined || typeof text !== 'string') return text;
    const { records, corrupt } = parseSegment(text);
    return {
      text,
      corrupt,
      records: records.map((record, index) => ({ ...record, id: `${segment}:${index}` })),
    };
  }

  /** What the spool holds, read only; claimed segments count from where their holder has got to. */
  async list(): Promise<SpoolRecord[]> {
    try {
      const records: SpoolRecord[] = [];
      for (const object of await this.#list(this.#segments)) {
        const segment = this.#segmentName(object.key);
        const parsed = await this.#readSegment(segment, object.size);
        // Oversized segments hold no records a redeliverer would send: the next one quarantines them.
        if (!parsed || 'tooLarge' in parsed) continue;
        const lease = await this.#currentLease(segment);
        const done = lease && lease !== 'gone' && lease.expiresAt > 0 ? lease.done : 0;
        records.push(...parsed.records.slice(done));
      }
      return records;
    } catch (error) {
      throw this.#error('read', error);
    }
  }

  // ---- redelivery ----

  /**
   * A lease is only as good as the store's conditional create. Checked once per spool: a key created
   * with `If-None-Match: *` must refuse a second such create. A store that ignores the header (older
   * S3-compatible servers) would let two redeliverers hold one segment, so redelivery refuses to run.
   */
  #checkConditionalWrites(): Promise<void> {
    this.#conditionalWrites ??= (async () => {
      const key = `${this.prefix}probe/${this.#owner}-${Date.now()}`;
      const first = await this.#create(key, 'probe');
      const second = await this.#create(key, 'probe');
      await this.#delete(key).catch(() => undefined);
      if (!first || second) {
        throw new RocketMQError(
          ErrorCode.CONFIG_INVALID,
          `the store behind ${this.location} does not honour conditional writes (If-None-Match: *): a second create of one key succeeded, so redeliverers could not claim segments safely; redelivery refused`,
        );
      }
    })().catch((error: unknown) => {
      this.#conditionalWrites = undefined;
      throw error;
    });
    return this.#conditionalWrites;
  }

  /** Takes the next generation of a segment's claim; undefined when it is held, or another got there first. */
  async #claim(segment: string): Promise<Lease | undefined> {
    const current = await this.#currentLease(segment);
    if (current === 'gone') return undefined;
    const now = Date.now();
    if (current && current.expiresAt > now) return undefined;
    const lease: Lease = {
      segment,
      generation: current ? current.generation + 1 : 0,
      expiresAt: now + this.#leaseMs,
      done: current?.done ?? 0,
    };
    return (await this.#create(this.#leaseKey(lease), this.#leaseBody(lease))) ? lease : undefined;
  }

  #leaseBody(lease: Lease): string {
    return JSON.stringify({ owner: this.#owner, expiresAt: lease.expiresAt, done: lease.done });
  }

  /**
   * Keeps a claim: when less than half of it is left, creates its next generation with a new expiry and
   * the progress so far. Undefined when it is lost (it expired while this redeliverer was stalled).
   */
  async #renew(lease: Lease, done: number): Promise<Lease | undefined> {
    const now = Date.now();
    if (lease.expiresAt - now >= this.#leaseMs / 2) return lease;
    if (lease.expiresAt <= now) return undefined;
    const next: Lease = {
      segment: lease.segment,
      generation: lease.generation + 1,
      expiresAt: now + this.#leaseMs,
      done,
    };
    return (await this.#create(this.#leaseKey(next), this.#leaseBody(next))) ? next : undefined;
  }

  /** Deletes every generation of a segment's claim up to this one (the earlier ones are expired holders'). */
  async #release(lease: Lease): Promise<void> {
    for (let generation = lease.generation; generation >= 0; generation--) {
      await this.#delete(this.#leaseKey({ ...lease, generation }));
    }
  }

  /**
   * Resends what the spool holds, oldest first, from any instance. One redelivery runs at a time in a
   * process; across instances each segment is claimed by creating `leases/<segment>/<n+1>` with
   * `If-None-Match: *` after finding generation `n` expired (or none), so exactly one claimant wins. The
   * holder renews its claim while it works and starts a resend only while half of it is left; a crashed
   * holder's segment is taken over once its claim expires, from the progress its last renewal recorded.
   * What is left of a segment is written as a new segment before the old one and its claims are deleted:
   * a crash in between can resend a record twice, never lose one.
   */
  redeliver(send: SpoolSender, options: RedeliverOptions = {}): Promise<RedeliverReport> {
    this.#redelivering ??= this.#redeliver(send, options)
      .catch((error: unknown) => {
        throw this.#error('redeliver from', error);
      })
      .finally(() => {
        this.#redelivering = undefined;
      });
    return this.#redelivering;
  }

  async #redeliver(send: SpoolSender, options: RedeliverOptions): Promise<RedeliverReport> {
    await this.#checkConditionalWrites();
    const report = emptyReport();
    const state = { stopped: false };
    for (const object of await this.#list(this.#segments)) {
      const segment = this.#segmentName(object.key);
      if (state.stopped || exhausted(report, options)) {
        // Counted, not claimed: what the next call will find.
        const parsed = await this.#readSegment(segment, object.size);
        if (parsed && !('tooLarge' in parsed)) report.remaining += parsed.records.length;
        continue;
      }
      const lease = await this.#claim(segment);
      if (lease) await this.#redeliverClaimed(lease, object.size, send, options, report, state);
    }
    await this.#pruneQuarantine().catch(() => undefined);
    return report;
  }

  async #redeliverClaimed(
    claimed: Lease,
    listedSize: number,
    send: SpoolSender,
    options: RedeliverOptions,
    report: RedeliverReport,
    state: { stopped: boolean },
  ): Promise<void> {
    let lease: Lease | undefined = claimed;
    const parsed = await this.#readSegment(lease.segment, listedSize);
    if (!parsed) {
      // Finished by another redeliverer between the listing and the claim.
      await this.#release(lease);
      return;
    }
    if ('tooLarge' in parsed) {
      if (await this.#quarantineUnread(lease.segment, parsed.tooLarge)) {
        report.quarantined++;
        await this.#delete(`${this.#segments}${lease.segment}`);
      }
      await this.#release(lease);
      return;
    }
    if (
      parsed.corrupt > 0 &&
      (await this.#create(`${this.prefix}quarantine/${lease.segment}`, parsed.text))
    ) {
      report.quarantined++;
    }
    const kept: SpoolRecord[] = [];
    const aside: SpoolRecord[] = [];
    let done = lease.done;
    let prefix = true;
    for (const record of parsed.records.slice(lease.done)) {
      if (state.stopped || exhausted(report, options)) {
        kept.push(record);
        report.remaining++;
        continue;
      }
      lease = await this.#renew(lease, done);
      if (!lease) return;
      const { outcome, record: after } = await resendOne(record, send, options);
      if (outcome === 'delivered') {
        report.delivered++;
        if (prefix) done++;
        continue;
      }
      prefix = false;
      settleFailure(outcome, after, { report, kept, aside, state });
    }
    // Still held, with time to finish: nobody else can have started on it.
    lease = await this.#renew(lease, done);
    if (!lease) return;
    if (aside.length > 0) {
      await this.#create(
        `${this.prefix}quarantine/${newSegmentName(SEGMENT_SUFFIX)}`,
        aside.map(encodeRecord).join(''),
      );
    }
    if (kept.length > 0) {
      await this.#create(
        `${this.#segments}${newSegmentName(SEGMENT_SUFFIX)}`,
        kept.map(encodeRecord).join(''),
      );
    }
    await this.#delete(`${this.#segments}${lease.segment}`);
    await this.#release(lease);
  }

  /**
   * Moves an oversized segment to `quarantine/<segment>` by a server-side copy (nothing of it is read
   * here), with the reason in its metadata (`x-amz-meta-rocketmq-error`). The key is the segment's own,
   * so a copy repeated after a crash replaces the first. False when the SDK given has no CopyObjectCommand:
   * the segment is then left where it is, unread.
   */
  async #quarantineUnread(segment: string, size: number): Promise<boolean> {
    const { sdk } = await this.#load();
    const Copy = sdk.CopyObjectCommand;
    if (!Copy) return false;
    const source = `${this.#segments}${segment}`;
    this.requests.put++;
    const { client } = await this.#load();
    await client.send(
      new Copy({
        Bucket: this.bucket,
        Key: `${this.prefix}quarantine/${segment}`,
        CopySource: `${this.bucket}/${source.split('/').map(encodeURIComponent).join('/')}`,
        MetadataDirective: 'REPLACE',
        ContentType: 'text/plain; charset=utf-8',
        Metadata: {
          'rocketmq-error': `${ErrorCode.MESSAGE_INVALID}: segment of ${size} bytes is larger than the ${MAX_SEGMENT_BYTES} a spool writes; moved here unread`,
        },
      }),
    );
    return true;
  }

  async #pruneQuarantine(): Promise<void> {
    const objects = await this.#list(`${this.prefix}quarantine/`);
    const now = Date.now();
    objects.sort((a, b) => b.lastModified - a.lastModified);
    for (const [index, object] of objects.entries()) {
      if (index >= this.#quarantineMaxObjects || now - object.lastModified > this.#quarantineMaxAgeMs) {
        await this.#delete(object.key).catch(() => undefined);
      }
    }
  }
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
