import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, RocketMQError } from '../errors.js';
import type { PreparedMessage } from '../message.js';
import { NODE_FILE_SYSTEM, type SpoolFileSystem } from './file-io.js';
import { FileLeases, type Lease } from './file-lease.js';
import { GroupCommit } from './group-commit.js';
import { positiveLimits, type QuarantineBounds } from './limits.js';
import {
  DEFAULT_LEASE_MS,
  emptyReport,
  exhausted,
  newOwner,
  newSegmentName,
  resendOne,
  settleFailure,
} from './redeliver.js';
import { encodeRecord } from './segment.js';
import type { RedeliverOptions, RedeliverReport, Spool, SpoolRecord, SpoolSender } from './spool.js';
import { SEGMENT_SUFFIX, SpoolDirectory } from './spool-directory.js';

export type { SpoolFileSystem } from './file-io.js';

export const DEFAULT_SPOOL_DIR = join(tmpdir(), 'rocketmq-serverless-spool');
/** Quarantined files are removed after this long. */
export const DEFAULT_QUARANTINE_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;
/** At most this many files are kept in quarantine; the oldest go first. */
export const DEFAULT_QUARANTINE_MAX_FILES = 1000;

export interface FileSpoolOptions {
  /** Directory of the records. @default `<os tmpdir>/rocketmq-serverless-spool`; env `ROCKETMQ_SPOOL_DIR` */
  dir?: string;
  /** Replaces file operations, for fault-injection tests only. @default `node:fs/promises` */
  fileSystem?: Partial<SpoolFileSystem>;
  /**
   * How long a redeliverer's claim on a segment lasts without renewal; a crashed redeliverer's segments
   * are taken over this long after its last renewal. Longer than the slowest single resend.
   * @default 60 s
   */
  leaseMs?: number;
  /** Quarantined files older than this are removed. @default 7 days */
  quarantineMaxAgeMs?: number;
  /** At most this many quarantined files are kept, the newest. @default 1,000 */
  quarantineMaxFiles?: number;
}

function spoolError(what: string, dir: string, cause: unknown, topic?: string): RocketMQError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new RocketMQError(ErrorCode.SPOOL_FAILED, `could not ${what} the spool in ${dir}: ${reason}`, {
    cause,
    topic,
  });
}

/**
 * Failed messages kept on local disk, written by group commit: the records handed to `append` while a
 * flush is under way go to disk together in the next one, as one segment file — one write, one
 * `fdatasync`, one rename and one directory sync however many records it holds, with at most two
 * flushes at a time. `append` resolves only once its record is durable under its final name, so what a caller was
 * told is spooled survives a crash the moment it is told. Each line of a segment checks itself (CRC-32);
 * a torn or corrupt line is moved to `quarantine/` on read, never resent and never a crash.
 *
 * This module is the spool's protocol; the files are in {@link SpoolDirectory}, the durable write in
 * `file-io.ts`, the claims in {@link FileLeases}.
 */
export class FileSpool implements Spool {
  readonly dir: string;
  readonly quarantineDir: string;
  readonly #directory: SpoolDirectory;
  readonly #leases: FileLeases;
  readonly #quarantine: QuarantineBounds;
  readonly #commit = new GroupCommit(
    async (lines) => {
      const file = newSegmentName(SEGMENT_SUFFIX);
      await this.#directory.write(file, lines);
      return file;
    },
    (cause, topic) => spoolError('write a record to', this.dir, cause, topic),
  );
  #redelivering: Promise<RedeliverReport> | undefined;

  constructor(options: FileSpoolOptions = {}) {
    this.dir = options.dir ?? process.env.ROCKETMQ_SPOOL_DIR ?? DEFAULT_SPOOL_DIR;
    const files = { ...NODE_FILE_SYSTEM, ...options.fileSystem };
    this.#directory = new SpoolDirectory(this.dir, files);
    this.quarantineDir = this.#directory.quarantineDir;
    const limits = positiveLimits('FileSpool', options, {
      leaseMs: DEFAULT_LEASE_MS,
      quarantineMaxAgeMs: DEFAULT_QUARANTINE_MAX_AGE_MS,
      quarantineMaxFiles: DEFAULT_QUARANTINE_MAX_FILES,
    });
    this.#leases = new FileLeases(files, this.dir, newOwner(), limits.leaseMs);
    this.#quarantine = { maxAgeMs: limits.quarantineMaxAgeMs, maxEntries: limits.quarantineMaxFiles };
  }

  /**
   * Writes every queued record now, in one segment, without giving up the thread: for a drain's last
   * moments, when the event loop has nothing better to do and every turn an asynchronous write would
   * need may come late. The appends it covers resolve (or reject) as usual.
   */
  flushSync(): void {
    const taken = this.#commit.takeAll();
    if (!taken) return;
    const file = newSegmentName(SEGMENT_SUFFIX);
    const started = performance.now();
    try {
      this.#directory.writeSync(file, taken.lines);
      taken.written({ name: file, ms: performance.now() - started });
    } catch (error) {
      taken.written({ error });
    }
  }

  /** How long a flush has taken lately, in ms (0 before the first one). */
  get flushEstimateMs(): number {
    return this.#commit.flushEstimateMs;
  }

  /**
   * Queues the record for the next flush and resolves with its id once it is on disk. Appends made in
   * the same tick, or while a flush runs, share one flush.
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

  /**
   * What the spool holds, read only: claimed segments count from where their holder has got to. Damaged
   * lines are skipped here and moved to quarantine by the next redelivery.
   */
  async list(): Promise<SpoolRecord[]> {
    try {
      const { free, leases } = await this.#directory.scan();
      const found: { file: string; records: SpoolRecord[] }[] = [];
      for (const file of free) {
        const parsed = await this.#directory.read(file, file);
        if (parsed) found.push({ file, records: parsed.records });
      }
      for (const lease of leases) {
        const parsed = await this.#directory.read(lease.name, lease.file);
        if (parsed) found.push({ file: lease.file, records: parsed.records.slice(lease.done) });
      }
      found.sort((a, b) => (a.file < b.file ? -1 : 1));
      return found.flatMap((entry) => entry.records);
    } catch (error) {
      throw spoolError('read', this.dir, error);
    }
  }

  /**
   * Resends what the spool holds, oldest first. One redelivery runs at a time in a process (a call made
   * while one runs gets that one's report), and across processes each segment is claimed by one
   * redeliverer at a time (see {@link FileLeases}). A claimed segment any of whose records was resent is
   * replaced by a segment of what is left of it (failed records, with their new error), written before
   * the claim is removed: a crash in between can resend a record twice, never lose one. Records are
   * checked again as new messages before they are resent; invalid ones go to quarantine, never out.
   */
  redeliver(send: SpoolSender, options: RedeliverOptions = {}): Promise<RedeliverReport> {
    this.#redelivering ??= this.#redeliver(send, options)
      .catch((error: unknown) => {
        throw error instanceof RocketMQError ? error : spoolError('redeliver from', this.dir, error);
      })
      .finally(() => {
        this.#redelivering = undefined;
      });
    return this.#redelivering;
  }

  async #redeliver(send: SpoolSender, options: RedeliverOptions): Promise<RedeliverReport> {
    const { free, leases } = await this.#directory.scan();
    const now = Date.now();
    const candidates: { file: string; expired?: Lease }[] = [
      ...free.map((file) => ({ file })),
      ...leases
        .filter((lease) => lease.expiresAt <= now)
        .map((lease) => ({ file: lease.file, expired: lease })),
    ].sort((a, b) => (a.file < b.file ? -1 : 1));
    const report = emptyReport();
    const state = { stopped: false };
    for (const candidate of candidates) {
      if (state.stopped || exhausted(report, options)) {
        // Counted, not claimed: what the next call will find.
        const parsed = await this.#directory
          .read(candidate.expired?.name ?? candidate.file, candidate.file)
          .catch(() => undefined);
        report.remaining += parsed ? parsed.records.length - (candidate.expired?.done ?? 0) : 0;
        continue;
      }
      const lease = await this.#leases.claim(candidate.file, candidate.expired);
      if (lease) await this.#redeliverClaimed(lease, send, options, report, state);
    }
    await this.#directory.pruneQuarantine(this.#quarantine).catch(() => undefined);
    return report;
  }

  async #redeliverClaimed(
    claimed: Lease,
    send: SpoolSender,
    options: RedeliverOptions,
    report: RedeliverReport,
    state: { stopped: boolean },
  ): Promise<void> {
    let lease: Lease | undefined = claimed;
    const parsed = await this.#directory.read(lease.name, lease.file);
    if (!parsed) return;
    if (parsed.corrupt > 0) {
      if (parsed.records.length === 0) {
        if (await this.#directory.quarantine(lease.name, lease.file)) report.quarantined++;
        return;
      }
      // The damaged original goes to quarantine as it is; its good records are resent from the claim.
      await this.#directory.ensure();
      const copied = await this.#directory.write(lease.file, parsed.text, 'quarantine').then(
        () => true,
        () => false,
      );
      if (copied) report.quarantined++;
    }
    const kept: SpoolRecord[] = [];
    const aside: SpoolRecord[] = [];
    let done = lease.done;
    let prefix = true;
    let touched = false;
    for (const record of parsed.records.slice(lease.done)) {
      if (state.stopped || exhausted(report, options)) {
        kept.push(record);
        report.remaining++;
        continue;
      }
      lease = await this.#leases.renew(lease, done);
      // Expired while this one was stalled, and taken over: the new holder resends the rest.
      if (!lease) return;
      touched = true;
      const { outcome, record: after } = await resendOne(record, send, options);
      if (outcome === 'delivered') {
        report.delivered++;
        if (prefix) done++;
        continue;
      }
      prefix = false;
      settleFailure(outcome, after, { report, kept, aside, state });
    }
    if (!touched && lease.done === 0 && parsed.corrupt === 0) {
      // Nothing was tried: the segment goes back as it was.
      await this.#leases.giveBack(lease);
      return;
    }
    // Still ours, with time to finish: nobody else can have started on it.
    lease = await this.#leases.renew(lease, done);
    if (!lease) return;
    if (aside.length > 0) {
      await this.#directory.write(
        newSegmentName(SEGMENT_SUFFIX),
        aside.map(encodeRecord).join(''),
        'quarantine',
      );
    }
    if (kept.length > 0) {
      await this.#directory.write(newSegmentName(SEGMENT_SUFFIX), kept.map(encodeRecord).join(''));
    }
    await this.#directory.remove(lease.name);
  }
}
