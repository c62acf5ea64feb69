import { ConfigError, ErrorCode } from '../errors.js';
import type { PreparedMessage } from '../message.js';
import { GroupCommit, MAX_FLUSH_BYTES } from './group-commit.js';
import { beyondBounds, positiveLimits, type QuarantineBounds } from './limits.js';
import {
  DEFAULT_LEASE_MS,
  emptyReport,
  exhausted,
  newOwner,
  newSegmentName,
  resendOne,
  settleFailure,
} from './redeliver.js';
import { parseS3Url, type S3ClientOptions } from './s3-client.js';
import { type Lease, S3Leases } from './s3-lease.js';
import { S3Objects, spoolFailure, type TooLarge } from './s3-objects.js';
import { encodeRecord, parseSegment } from './segment.js';
import type { RedeliverOptions, RedeliverReport, Spool, SpoolRecord, SpoolSender } from './spool.js';

export { parseS3Url, type S3ClientLike, type S3Sdk } from './s3-client.js';

/**
 * Failed messages kept in object storage over the S3 API: AWS S3, or Alibaba Cloud OSS through its
 * S3-compatible endpoint. Unlike a file spool in the instance's `/tmp`, what it holds outlives the
 * instance, and any instance can redeliver it.
 *
 * Layout under `<prefix>`: `segments/<15-digit ms>-<hex>.seg` (the file spool's segment format, one
 * object per flush, keys sorting by time; a record's id is `<key>:<line>`), `leases/<segment>/<n>`
 * (claims, see {@link S3Leases}), `quarantine/…`.
 *
 * This module is the spool's protocol: what is written when, and in which order, so that a crash at
 * any point loses nothing. The calls themselves are in {@link S3Objects}, the claims in {@link S3Leases},
 * the client and its SDK in `s3-client.ts`.
 */

const SEGMENT_SUFFIX = '.seg';
/**
 * The largest segment a redeliverer reads (segments are read whole): twice what a flush writes. A bigger
 * object was not written by a spool; it is moved to quarantine by a server-side copy, never read.
 */
export const MAX_SEGMENT_BYTES = 2 * MAX_FLUSH_BYTES;
export const DEFAULT_S3_QUARANTINE_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;
export const DEFAULT_S3_QUARANTINE_MAX_OBJECTS = 1000;

export interface S3SpoolOptions extends S3ClientOptions {
  /** `s3://bucket/prefix`. Env `ROCKETMQ_SPOOL_URL`. */
  url?: string;
  /** How long a claim on a segment lasts without renewal. @default 60 s */
  leaseMs?: number;
  /** Quarantined objects older than this are deleted by the next redelivery. @default 7 days */
  quarantineMaxAgeMs?: number;
  /** At most this many quarantined objects are kept, the newest. @default 1,000 */
  quarantineMaxObjects?: number;
}

interface ParsedSegment {
  text: string;
  records: SpoolRecord[];
  corrupt: number;
}

export class S3Spool implements Spool {
  readonly bucket: string;
  readonly prefix: string;
  /** `s3://bucket/prefix`, for messages; carries no credentials. */
  readonly location: string;
  /** Requests made, by kind: for tests and the README's cost figures. */
  readonly requests: S3Objects['requests'];
  readonly #objects: S3Objects;
  readonly #leases: S3Leases;
  readonly #quarantine: QuarantineBounds;
  readonly #commit = new GroupCommit(
    async (lines) => {
      const name = newSegmentName(SEGMENT_SUFFIX);
      // A fresh random name: the condition only guards against the impossible collision.
      if (!(await this.#objects.create(`${this.#segments}${name}`, lines)))
        throw new Error(`segment ${name} exists already`);
      return name;
    },
    (cause, topic) => this.#error('write a record to', cause, topic),
  );
  #redelivering: Promise<RedeliverReport> | undefined;

  constructor(options: S3SpoolOptions = {}) {
    const url = options.url ?? process.env.ROCKETMQ_SPOOL_URL;
    if (!url) {
      throw new ConfigError('S3Spool needs a url (s3://bucket/prefix) or ROCKETMQ_SPOOL_URL');
    }
    const { bucket, prefix } = parseS3Url(url);
    this.bucket = bucket;
    this.prefix = prefix;
    this.location = `s3://${bucket}/${prefix}`;
    const limits = positiveLimits('S3Spool', options, {
      leaseMs: DEFAULT_LEASE_MS,
      quarantineMaxAgeMs: DEFAULT_S3_QUARANTINE_MAX_AGE_MS,
      quarantineMaxObjects: DEFAULT_S3_QUARANTINE_MAX_OBJECTS,
    });
    this.#quarantine = { maxAgeMs: limits.quarantineMaxAgeMs, maxEntries: limits.quarantineMaxObjects };
    this.#objects = new S3Objects(bucket, options);
    this.requests = this.#objects.requests;
    this.#leases = new S3Leases(this.#objects, prefix, newOwner(), limits.leaseMs);
  }

  get #segments(): string {
    return `${this.prefix}segments/`;
  }

  #error(what: string, cause: unknown, topic?: string) {
    return spoolFailure(this.location, what, cause, topic);
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
    return this.#commit.append(message, error);
  }

  appendThen(
    message: PreparedMessage,
    error: { code: ErrorCode; message: string },
    done: (error: unknown) => void,
  ): void {
    this.#commit.enqueue(message, error, done);
  }

  // ---- reading ----

  /** The segment's records; undefined when it is gone; `{ tooLarge }` (unread) when it is oversized. */
  async #readSegment(segment: string, listedSize = 0): Promise<ParsedSegment | TooLarge | undefined> {
    if (listedSize > MAX_SEGMENT_BYTES) return { tooLarge: listedSize };
    const text = await this.#objects.get(`${this.#segments}${segment}`, MAX_SEGMENT_BYTES);
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
      for (const object of await this.#objects.list(this.#segments)) {
        const segment = object.key.slice(this.#segments.length);
        const parsed = await this.#readSegment(segment, object.size);
        // Oversized segments hold no records a redeliverer would send: the next one quarantines them.
        if (!parsed || 'tooLarge' in parsed) continue;
        const lease = await this.#leases.current(segment);
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
    await this.#leases.checkConditionalWrites(this.location);
    const report = emptyReport();
    const state = { stopped: false };
    for (const object of await this.#objects.list(this.#segments)) {
      const segment = object.key.slice(this.#segments.length);
      if (state.stopped || exhausted(report, options)) {
        // Counted, not claimed: what the next call will find.
        const parsed = await this.#readSegment(segment, object.size);
        if (parsed && !('tooLarge' in parsed)) report.remaining += parsed.records.length;
        continue;
      }
      const lease = await this.#leases.claim(segment);
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
      await this.#leases.release(lease);
      return;
    }
    if ('tooLarge' in parsed) {
      if (await this.#quarantineUnread(lease.segment, parsed.tooLarge)) {
        report.quarantined++;
        await this.#objects.delete(`${this.#segments}${lease.segment}`);
      }
      await this.#leases.release(lease);
      return;
    }
    if (
      parsed.corrupt > 0 &&
      (await this.#objects.create(`${this.prefix}quarantine/${lease.segment}`, parsed.text))
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
      lease = await this.#leases.renew(lease, done);
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
    lease = await this.#leases.renew(lease, done);
    if (!lease) return;
    if (aside.length > 0) {
      await this.#objects.create(
        `${this.prefix}quarantine/${newSegmentName(SEGMENT_SUFFIX)}`,
        aside.map(encodeRecord).join(''),
      );
    }
    if (kept.length > 0) {
      await this.#objects.create(
        `${this.#segments}${newSegmentName(SEGMENT_SUFFIX)}`,
        kept.map(encodeRecord).join(''),
      );
    }
    await this.#objects.delete(`${this.#segments}${lease.segment}`);
    await this.#leases.release(lease);
  }

  // ---- quarantine ----

  /**
   * Moves an oversized segment to `quarantine/<segment>` by a server-side copy (nothing of it is read
   * here), with the reason in its metadata (`x-amz-meta-rocketmq-error`). The key is the segment's own,
   * so a copy repeated after a crash replaces the first. False when the SDK given has no CopyObjectCommand:
   * the segment is then left where it is, unread.
   */
  #quarantineUnread(segment: string, size: number): Promise<boolean> {
    return this.#objects.copyUnread(`${this.#segments}${segment}`, `${this.prefix}quarantine/${segment}`, {
      'rocketmq-error': `${ErrorCode.MESSAGE_INVALID}: segment of ${size} bytes is larger than the ${MAX_SEGMENT_BYTES} a spool writes; moved here unread`,
    });
  }

  async #pruneQuarantine(): Promise<void> {
    const objects = await this.#objects.list(`${this.prefix}quarantine/`);
    const entries = objects.map((object) => ({ key: object.key, modifiedAt: object.lastModified }));
    for (const entry of beyondBounds(entries, this.#quarantine, Date.now())) {
      await this.#objects.delete(entry.key).catch(() => undefined);
    }
  }
}
