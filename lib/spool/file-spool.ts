import { randomBytes } from 'node:crypto';
import * as fsSync from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, RocketMQError } from '../errors.js';
import type { PreparedMessage } from '../message.js';
import { decodeRecord, encodeRecord, parseSegment } from './segment.js';
import type { RedeliverOptions, RedeliverReport, Spool, SpoolRecord, SpoolSender } from './spool.js';

export const DEFAULT_SPOOL_DIR = join(tmpdir(), 'rocketmq-serverless-spool');
const SEGMENT_SUFFIX = '.seg';
/** Single-record files of the first format; still read and redelivered, never written. */
const LEGACY_SUFFIX = '.json';
const PARTIAL_SUFFIX = '.partial';
const QUARANTINE_DIR = 'quarantine';
/** What the broker says about the message itself; resending it as it is cannot succeed. */
const BROKER_VERDICTS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCode.TOPIC_NOT_FOUND,
  ErrorCode.MESSAGE_TYPE_MISMATCH,
  ErrorCode.UNAUTHORIZED,
  ErrorCode.FORBIDDEN,
  ErrorCode.BAD_REQUEST,
  ErrorCode.MESSAGE_TOO_LARGE,
  ErrorCode.MESSAGE_INVALID,
]);
/** A partial file older than this was left by a process that died while writing it. */
const ABANDONED_PARTIAL_MS = 30_000;
/** One flush writes at most this much; a larger backlog goes out in several flushes. */
const MAX_FLUSH_BYTES = 4 * 1024 * 1024;
/**
 * Flushes under way at once. Two let one write while the other waits for its sync; more would only
 * queue on the same disk.
 */
const MAX_FLUSHERS = 2;

/**
 * The file operations the spool uses. Replaceable for fault injection in tests (a full disk, a path
 * that is not a directory); everything else uses `node:fs`. The synchronous ones serve
 * {@link FileSpool.flushSync}.
 */
export interface SpoolFileSystem {
  open: typeof fs.open;
  rename: typeof fs.rename;
  readdir: (path: string) => Promise<string[]>;
  readFile: (path: string, encoding: 'utf8') => Promise<string>;
  unlink: typeof fs.unlink;
  mkdir: typeof fs.mkdir;
  stat: typeof fs.stat;
  openSync: typeof fsSync.openSync;
  writeSync: (fd: number, data: Uint8Array) => number;
  fdatasyncSync: typeof fsSync.fdatasyncSync;
  fsyncSync: typeof fsSync.fsyncSync;
  closeSync: typeof fsSync.closeSync;
  renameSync: typeof fsSync.renameSync;
  unlinkSync: typeof fsSync.unlinkSync;
  mkdirSync: typeof fsSync.mkdirSync;
}

const NODE_FILE_SYSTEM: SpoolFileSystem = {
  open: fs.open,
  rename: fs.rename,
  readdir: (path) => fs.readdir(path),
  readFile: (path, encoding) => fs.readFile(path, encoding),
  unlink: fs.unlink,
  mkdir: fs.mkdir,
  stat: fs.stat,
  openSync: fsSync.openSync,
  writeSync: (fd, data) => fsSync.writeSync(fd, data),
  fdatasyncSync: fsSync.fdatasyncSync,
  fsyncSync: fsSync.fsyncSync,
  closeSync: fsSync.closeSync,
  renameSync: fsSync.renameSync,
  unlinkSync: fsSync.unlinkSync,
  mkdirSync: fsSync.mkdirSync,
};

export interface FileSpoolOptions {
  /** Directory of the records. @default `<os tmpdir>/rocketmq-serverless-spool`; env `ROCKETMQ_SPOOL_DIR` */
  dir?: string;
  /** Replaces file operations, for fault-injection tests only. @default `node:fs/promises` */
  fileSystem?: Partial<SpoolFileSystem>;
}

interface QueuedRecord {
  line: string;
  resolve(id: string): void;
  reject(error: unknown): void;
}

interface Segment {
  /** File name inside the spool directory. */
  file: string;
  records: SpoolRecord[];
}

function spoolError(what: string, dir: string, cause: unknown, topic?: string): RocketMQError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new RocketMQError(ErrorCode.SPOOL_FAILED, `could not ${what} the spool in ${dir}: ${reason}`, {
    cause,
    topic,
  });
}

function newSegmentName(): string {
  // Time first so that a directory listing is already in spool order.
  return `${Date.now().toString().padStart(15, '0')}-${randomBytes(6).toString('hex')}${SEGMENT_SUFFIX}`;
}

/**
 * Failed messages kept on local disk, written by group commit: the records handed to `append` while a
 * flush is under way go to disk together in the next one, as one segment file — one write, one
 * `fdatasync`, one rename and one directory sync however many records it holds, with at most two
 * flushes at a time. `append` resolves only once its record is durable under its final name, so what a caller was
 * told is spooled survives a crash the moment it is told. Each line of a segment checks itself (CRC-32);
 * a torn or corrupt line is moved to `quarantine/` on read, never resent and never a crash.
 */
export class FileSpool implements Spool {
  readonly dir: string;
  readonly quarantineDir: string;
  readonly #fs: SpoolFileSystem;
  #ready: Promise<void> | undefined;
  #queue: QueuedRecord[] = [];
  #flushers = 0;
  #flushScheduled = false;
  #redelivering: Promise<RedeliverReport> | undefined;
  #flushEstimateMs = 0;

  constructor(options: FileSpoolOptions = {}) {
    this.dir = options.dir ?? process.env.ROCKETMQ_SPOOL_DIR ?? DEFAULT_SPOOL_DIR;
    this.quarantineDir = join(this.dir, QUARANTINE_DIR);
    this.#fs = { ...NODE_FILE_SYSTEM, ...options.fileSystem };
  }

  #ensureDirs(): Promise<void> {
    this.#ready ??= this.#fs.mkdir(this.quarantineDir, { recursive: true, mode: 0o700 }).then(
      () => undefined,
      (error: unknown) => {
        this.#ready = undefined;
        throw error;
      },
    );
    return this.#ready;
  }

  /** Writes `lines` as one new file in `dir`, durable under its final name when this resolves. */
  async #writeSegment(dir: string, file: string, lines: string): Promise<void> {
    const target = join(dir, file);
    const partial = `${target}${PARTIAL_SUFFIX}`;
    let handle: fs.FileHandle | undefined;
    try {
      handle = await this.#fs.open(partial, 'wx', 0o600);
      await handle.writeFile(lines);
      await handle.datasync();
      await handle.close();
      handle = undefined;
      await this.#fs.rename(partial, target);
    } catch (error) {
      await handle?.close().catch(() => undefined);
      await this.#fs.unlink(partial).catch(() => undefined);
      throw error;
    }
    // The rename is durable only once the directory itself is synced.
    const directory = await this.#fs.open(dir, 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
  }

  /** {@link #writeSegment}, synchronously. */
  #writeSegmentSync(dir: string, file: string, lines: string): void {
    const target = join(dir, file);
    const partial = `${target}${PARTIAL_SUFFIX}`;
    let fd: number | undefined;
    try {
      fd = this.#fs.openSync(partial, 'wx', 0o600);
      // One write call may write less than asked: go on until all of it is out.
      let bytes = Buffer.from(lines);
      while (bytes.length > 0) bytes = bytes.subarray(this.#fs.writeSync(fd, bytes));
      this.#fs.fdatasyncSync(fd);
      this.#fs.closeSync(fd);
      fd = undefined;
      this.#fs.renameSync(partial, target);
    } catch (error) {
      if (fd !== undefined) fsSync.closeSync(fd);
      try {
        this.#fs.unlinkSync(partial);
      } catch {
        // nothing was created
      }
      throw error;
    }
    const directory = this.#fs.openSync(dir, 'r');
    try {
      this.#fs.fsyncSync(directory);
    } finally {
      this.#fs.closeSync(directory);
    }
  }

  /**
   * Writes every queued record now, in one segment, without giving up the thread: for a drain's last
   * moments, when the event loop has nothing better to do and every turn an asynchronous write would
   * need may come late. The appends it covers resolve (or reject) as usual.
   */
  flushSync(): void {
    if (this.#queue.length === 0) return;
    const batch = this.#queue.splice(0);
    const file = newSegmentName();
    const started = performance.now();
    try {
      this.#fs.mkdirSync(this.quarantineDir, { recursive: true, mode: 0o700 });
      this.#writeSegmentSync(this.dir, file, batch.map((queued) => queued.line).join(''));
      this.#noteFlush(performance.now() - started);
      for (const [index, queued] of batch.entries()) queued.resolve(`${file}:${index}`);
    } catch (error) {
      for (const queued of batch) queued.reject(error);
    }
  }

  /** One flusher: writes what is queued, one segment at a time, until the queue is empty. */
  async #flushLoop(): Promise<void> {
    while (this.#queue.length > 0) {
      let bytes = 0;
      let count = 0;
      while (count < this.#queue.length && (count === 0 || bytes < MAX_FLUSH_BYTES)) {
        bytes += (this.#queue[count] as QueuedRecord).line.length;
        count++;
      }
      const batch = this.#queue.splice(0, count);
      const file = newSegmentName();
      const started = performance.now();
      try {
        await this.#ensureDirs();
        await this.#writeSegment(this.dir, file, batch.map((queued) => queued.line).join(''));
        this.#noteFlush(performance.now() - started);
        for (const [index, queued] of batch.entries()) queued.resolve(`${file}:${index}`);
      } catch (error) {
        for (const queued of batch) queued.reject(error);
      }
    }
  }

  /**
   * Starts a flusher, on the next microtask so that every append of the current tick joins its flush,
   * unless {@link MAX_FLUSHERS} already run: a second one writes while the first waits for its sync.
   */
  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#flushers >= MAX_FLUSHERS) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      if (this.#queue.length === 0) return;
      this.#flushers++;
      void this.#flushLoop().finally(() => {
        this.#flushers--;
        if (this.#queue.length > 0) this.#scheduleFlush();
      });
    });
  }

  /** The slowest recent flush, decaying: a disk that was slow a moment ago is likely slow still. */
  #noteFlush(ms: number): void {
    this.#flushEstimateMs = Math.max(ms, this.#flushEstimateMs * 0.8);
  }

  /** How long a flush has taken lately, in ms (0 before the first one). */
  get flushEstimateMs(): number {
    return this.#flushEstimateMs;
  }

  /**
   * Queues the record for the next flush and resolves with its id once it is on disk. Appends made in
   * the same tick, or while a flush runs, share one flush.
   */
  append(message: PreparedMessage, error: { code: ErrorCode; message: string }): Promise<string> {
    const line = encodeRecord({ message, error, spooledAt: Date.now(), redeliveryAttempts: 0 });
    return new Promise<string>((resolve, reject) => {
      this.#queue.push({
        line,
        resolve,
        reject: (cause) => reject(spoolError('write a record to', this.dir, cause, message.topic)),
      });
      this.#scheduleFlush();
    });
  }

  /** Moves a file aside; best effort, the evidence matters less than going on. */
  async #quarantine(file: string): Promise<void> {
    await this.#ensureDirs();
    await this.#fs.rename(join(this.dir, file), join(this.quarantineDir, file)).catch(() => undefined);
  }

  /** Reads one segment; corrupt lines go to quarantine and the segment is rewritten without them. */
  async #readSegment(file: string): Promise<Segment | undefined> {
    let text: string;
    try {
      text = await this.#fs.readFile(join(this.dir, file), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const legacy = file.endsWith(LEGACY_SUFFIX);
    const { records, corrupt } = legacy ? parseLegacy(text) : parseSegment(text);
    if (corrupt === 0) {
      return { file, records: records.map((record, index) => ({ ...record, id: `${file}:${index}` })) };
    }
    if (records.length === 0) {
      await this.#quarantine(file);
      return { file, records: [] };
    }
    // The good records are safe in a new segment before the damaged one moves aside.
    const rewritten = newSegmentName();
    await this.#writeSegment(this.dir, rewritten, records.map(encodeRecord).join(''));
    await this.#quarantine(file);
    return {
      file: rewritten,
      records: records.map((record, index) => ({ ...record, id: `${rewritten}:${index}` })),
    };
  }

  /** Promotes whole partial files left by a crash and quarantines torn ones. */
  async #recoverPartials(files: readonly string[]): Promise<void> {
    for (const file of files.filter((name) => name.endsWith(PARTIAL_SUFFIX))) {
      const path = join(this.dir, file);
      const info = await this.#fs.stat(path).catch(() => undefined);
      if (!info || Date.now() - info.mtimeMs < ABANDONED_PARTIAL_MS) continue;
      const text = await this.#fs.readFile(path, 'utf8').catch(() => '');
      const legacy = file.endsWith(`${LEGACY_SUFFIX}${PARTIAL_SUFFIX}`);
      const { records, corrupt } = legacy ? parseLegacy(text) : parseSegment(text);
      if (corrupt === 0 && records.length > 0) {
        await this.#fs.rename(path, path.slice(0, -PARTIAL_SUFFIX.length)).catch(() => undefined);
      } else {
        await this.#quarantine(file);
      }
    }
  }

  async #scan(): Promise<{ segments: Segment[]; quarantined: number }> {
    let files: string[];
    try {
      files = await this.#fs.readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { segments: [], quarantined: 0 };
      throw error;
    }
    await this.#recoverPartials(files);
    const quarantinedBefore = await this.#countQuarantined();
    files = await this.#fs.readdir(this.dir);
    const segments: Segment[] = [];
    const names = files.filter((name) => name.endsWith(SEGMENT_SUFFIX) || name.endsWith(LEGACY_SUFFIX));
    for (const file of names.sort()) {
      const segment = await this.#readSegment(file);
      if (segment && segment.records.length > 0) segments.push(segment);
    }
    return { segments, quarantined: (await this.#countQuarantined()) - quarantinedBefore };
  }

  async #countQuarantined(): Promise<number> {
    return (await this.#fs.readdir(this.quarantineDir).catch(() => [])).length;
  }

  async list(): Promise<SpoolRecord[]> {
    try {
      return (await this.#scan()).segments.flatMap((segment) => segment.records);
    } catch (error) {
      throw spoolError('read', this.dir, error);
    }
  }

  /**
   * Resends what the spool holds, oldest first. One redelivery runs at a time in a process: a call made
   * while one runs gets that one's report. A segment any of whose records was resent is replaced by a
   * segment of what is left of it (failed records, with their new error), written before the old one is
   * removed: a crash in between can resend a record twice, never lose one.
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
    const { segments, quarantined } = await this.#scan();
    const report: RedeliverReport = { delivered: 0, failed: 0, rejected: 0, quarantined, remaining: 0 };
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    let stopped = false;
    for (const segment of segments) {
      const kept: SpoolRecord[] = [];
      const refused: SpoolRecord[] = [];
      let touched = false;
      for (const record of segment.records) {
        const attempted = report.delivered + report.failed + report.rejected;
        if (
          stopped ||
          attempted >= limit ||
          (options.deadline !== undefined && Date.now() >= options.deadline)
        ) {
          kept.push(record);
          report.remaining++;
          continue;
        }
        touched = true;
        try {
          await send(record.message);
          report.delivered++;
        } catch (error) {
          const code = error instanceof RocketMQError ? error.code : ErrorCode.UNKNOWN;
          const failed: SpoolRecord = {
            ...record,
            error: { code, message: error instanceof Error ? error.message : String(error) },
            redeliveryAttempts: record.redeliveryAttempts + 1,
          };
          if (code === ErrorCode.PRODUCER_CLOSED) {
            // The sender is gone, not the message: everything from here on stays for the next call.
            kept.push(failed);
            report.failed++;
            stopped = true;
          } else if (BROKER_VERDICTS.has(code)) {
            // A verdict that no resend can change: kept aside with its error instead of retried forever.
            refused.push(failed);
            report.rejected++;
          } else {
            kept.push(failed);
            report.failed++;
          }
        }
      }
      if (!touched) continue;
      if (refused.length > 0) {
        await this.#ensureDirs();
        await this.#writeSegment(this.quarantineDir, newSegmentName(), refused.map(encodeRecord).join(''));
      }
      if (kept.length > 0)
        await this.#writeSegment(this.dir, newSegmentName(), kept.map(encodeRecord).join(''));
      await this.#fs.unlink(join(this.dir, segment.file)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    }
    return report;
  }
}

/** A first-format file: one JSON record, no checksum. */
function parseLegacy(text: string): { records: Omit<SpoolRecord, 'id'>[]; corrupt: number } {
  try {
    return { records: [decodeRecord(text)], corrupt: 0 };
  } catch {
    return { records: [], corrupt: 1 };
  }
}
