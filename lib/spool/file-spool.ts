import * as fsSync from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, RocketMQError } from '../errors.js';
import type { PreparedMessage } from '../message.js';
import { GroupCommit } from './group-commit.js';
import {
  DEFAULT_LEASE_MS,
  emptyReport,
  exhausted,
  newOwner,
  newSegmentName,
  resendOne,
  settleFailure,
} from './redeliver.js';
import { decodeRecord, encodeRecord, parseSegment } from './segment.js';
import type { RedeliverOptions, RedeliverReport, Spool, SpoolRecord, SpoolSender } from './spool.js';

export const DEFAULT_SPOOL_DIR = join(tmpdir(), 'rocketmq-serverless-spool');
const SEGMENT_SUFFIX = '.seg';
/** Single-record files of the first format; still read and redelivered, never written. */
const LEGACY_SUFFIX = '.json';
const PARTIAL_SUFFIX = '.partial';
const QUARANTINE_DIR = 'quarantine';
/** Quarantined files are removed after this long. */
export const DEFAULT_QUARANTINE_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;
/** At most this many files are kept in quarantine; the oldest go first. */
export const DEFAULT_QUARANTINE_MAX_FILES = 1000;
/** A partial file older than this was left by a process that died while writing it. */
const ABANDONED_PARTIAL_MS = 30_000;

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
  lstat: typeof fs.lstat;
  lstatSync: (path: string) => fsSync.Stats;
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
  lstat: fs.lstat,
  lstatSync: (path) => fsSync.lstatSync(path),
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
 */
export class FileSpool implements Spool {
  readonly dir: string;
  readonly quarantineDir: string;
  readonly #fs: SpoolFileSystem;
  #ready: Promise<void> | undefined;
  readonly #commit = new GroupCommit(async (lines) => {
    const file = newSegmentName(SEGMENT_SUFFIX);
    await this.#ensureDirs();
    await this.#writeSegment(this.dir, file, lines);
    return file;
  });
  #redelivering: Promise<RedeliverReport> | undefined;
  #trusted = false;
  readonly #owner = newOwner();
  readonly #leaseMs: number;
  readonly #quarantineMaxAgeMs: number;
  readonly #quarantineMaxFiles: number;

  constructor(options: FileSpoolOptions = {}) {
    this.dir = options.dir ?? process.env.ROCKETMQ_SPOOL_DIR ?? DEFAULT_SPOOL_DIR;
    this.quarantineDir = join(this.dir, QUARANTINE_DIR);
    this.#fs = { ...NODE_FILE_SYSTEM, ...options.fileSystem };
    this.#leaseMs = positive(options.leaseMs ?? DEFAULT_LEASE_MS, 'leaseMs');
    this.#quarantineMaxAgeMs = positive(
      options.quarantineMaxAgeMs ?? DEFAULT_QUARANTINE_MAX_AGE_MS,
      'quarantineMaxAgeMs',
    );
    this.#quarantineMaxFiles = positive(
      options.quarantineMaxFiles ?? DEFAULT_QUARANTINE_MAX_FILES,
      'quarantineMaxFiles',
    );
  }

  #ensureDirs(): Promise<void> {
    if (!this.#ready) {
      // Synchronous, once: a drain's first flush must not wait an extra thread-pool turn for it.
      try {
        this.#checkDirectorySync();
      } catch (error) {
        return Promise.reject(error);
      }
    }
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
    const taken = this.#commit.takeAll();
    if (!taken) return;
    const file = newSegmentName(SEGMENT_SUFFIX);
    const started = performance.now();
    try {
      this.#checkDirectorySync();
      this.#fs.mkdirSync(this.quarantineDir, { recursive: true, mode: 0o700 });
      this.#writeSegmentSync(this.dir, file, taken.lines);
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
    const line = encodeRecord({ message, error, spooledAt: Date.now(), redeliveryAttempts: 0 });
    return this.#commit.append(line, (cause) =>
      spoolError('write a record to', this.dir, cause, message.topic),
    );
  }

  /**
   * Refuses a directory that someone else could have filled: one owned by another user, writable by
   * group or others, or a symbolic link. A record found there would be sent with this process's
   * credentials. Checked once per spool, before its first read or write; a missing directory is fine
   * (it is created mode 0700).
   */
  #trustDirectory(info: fsSync.Stats | undefined): void {
    if (!info) return;
    const problem = info.isSymbolicLink()
      ? 'is a symbolic link'
      : !info.isDirectory()
        ? 'is not a directory'
        : process.getuid !== undefined && info.uid !== process.getuid()
          ? `is owned by uid ${info.uid}, not by this process (uid ${process.getuid()})`
          : (info.mode & 0o022) !== 0
            ? `can be written by group or others (mode ${(info.mode & 0o777).toString(8)})`
            : undefined;
    if (problem) {
      throw new Error(
        `${this.dir} ${problem}; refusing it, since whoever can write there could plant records this process would send (use a directory of your own, mode 0700)`,
      );
    }
    this.#trusted = true;
  }

  async #checkDirectory(): Promise<void> {
    if (this.#trusted) return;
    this.#trustDirectory(await this.#fs.lstat(this.dir).catch(absentIsUndefined));
  }

  #checkDirectorySync(): void {
    if (this.#trusted) return;
    let info: fsSync.Stats | undefined;
    try {
      info = this.#fs.lstatSync(this.dir);
    } catch (error) {
      info = absentIsUndefined(error);
    }
    this.#trustDirectory(info);
  }

  /** Moves a file into quarantine under `name`; best effort, the evidence matters less than going on. */
  async #quarantine(from: string, name = from): Promise<boolean> {
    await this.#ensureDirs();
    return this.#fs.rename(join(this.dir, from), join(this.quarantineDir, name)).then(
      () => true,
      () => false,
    );
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

  /** The spool's files: segments nobody holds, and claims, oldest first. Recovers partials on the way. */
  async #scan(): Promise<{ free: string[]; leases: Lease[] }> {
    await this.#checkDirectory();
    let files: string[];
    try {
      files = await this.#fs.readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { free: [], leases: [] };
      throw error;
    }
    if (files.some((name) => name.endsWith(PARTIAL_SUFFIX))) {
      await this.#recoverPartials(files);
      files = await this.#fs.readdir(this.dir);
    }
    const free = files.filter((name) => name.endsWith(SEGMENT_SUFFIX) || name.endsWith(LEGACY_SUFFIX));
    const leases = files.map(parseLease).filter((lease): lease is Lease => lease !== undefined);
    const byFile = (a: { file: string }, b: { file: string }) => (a.file < b.file ? -1 : 1);
    return { free: free.sort(), leases: leases.sort(byFile) };
  }

  /** Reads one segment (or claimed segment) file; undefined when it is gone. */
  async #read(name: string, file: string): Promise<ParsedFile | undefined> {
    let text: string;
    try {
      text = await this.#fs.readFile(join(this.dir, name), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const { records, corrupt } = file.endsWith(LEGACY_SUFFIX) ? parseLegacy(text) : parseSegment(text);
    return {
      text,
      corrupt,
      records: records.map((record, index) => ({ ...record, id: `${file}:${index}` })),
    };
  }

  /**
   * What the spool holds, read only: claimed segments count from where their holder has got to. Damaged
   * lines are skipped here and moved to quarantine by the next redelivery.
   */
  async list(): Promise<SpoolRecord[]> {
    try {
      const { free, leases } = await this.#scan();
      const found: { file: string; records: SpoolRecord[] }[] = [];
      for (const file of free) {
        const parsed = await this.#read(file, file);
        if (parsed) found.push({ file, records: parsed.records });
      }
      for (const lease of leases) {
        const parsed = await this.#read(lease.name, lease.file);
        if (parsed) found.push({ file: lease.file, records: parsed.records.slice(lease.done) });
      }
      found.sort((a, b) => (a.file < b.file ? -1 : 1));
      return found.flatMap((entry) => entry.records);
    } catch (error) {
      throw spoolError('read', this.dir, error);
    }
  }

  /**
   * Claims a segment by renaming it (or an expired claim on it) to a claim name of this spool's own.
   * A rename is atomic: of two redeliverers renaming the same name, one finds it gone. Undefined when
   * another one got there first.
   */
  async #claim(file: string, expired?: Lease): Promise<Lease | undefined> {
    const lease = makeLease(file, Date.now() + this.#leaseMs, this.#owner, expired?.done ?? 0);
    try {
      await this.#fs.rename(join(this.dir, expired?.name ?? file), join(this.dir, lease.name));
      return lease;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /**
   * Renames a held claim to record progress and, when less than half of it is left, a new expiry.
   * Undefined when the claim is gone: it expired and another redeliverer took it over.
   */
  async #renew(lease: Lease, done: number): Promise<Lease | undefined> {
    const now = Date.now();
    const expiresAt = lease.expiresAt - now < this.#leaseMs / 2 ? now + this.#leaseMs : lease.expiresAt;
    if (expiresAt === lease.expiresAt && done === lease.done) return lease;
    if (lease.expiresAt <= now) return undefined;
    const renewed = makeLease(lease.file, expiresAt, this.#owner, done);
    try {
      await this.#fs.rename(join(this.dir, lease.name), join(this.dir, renewed.name));
      return renewed;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /**
   * Resends what the spool holds, oldest first. One redelivery runs at a time in a process (a call made
   * while one runs gets that one's report), and across processes each segment is claimed by one
   * redeliverer at a time (see {@link #claim}). A claimed segment any of whose records was resent is
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
    const { free, leases } = await this.#scan();
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
        const parsed = await this.#read(candidate.expired?.name ?? candidate.file, candidate.file).catch(
          () => undefined,
        );
        report.remaining += parsed ? parsed.records.length - (candidate.expired?.done ?? 0) : 0;
        continue;
      }
      const lease = await this.#claim(candidate.file, candidate.expired);
      if (lease) await this.#redeliverClaimed(lease, send, options, report, state);
    }
    await this.#pruneQuarantine().catch(() => undefined);
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
    const parsed = await this.#read(lease.name, lease.file);
    if (!parsed) return;
    if (parsed.corrupt > 0) {
      if (parsed.records.length === 0) {
        if (await this.#quarantine(lease.name, lease.file)) report.quarantined++;
        return;
      }
      // The damaged original goes to quarantine as it is; its good records are resent from the claim.
      await this.#ensureDirs();
      const copied = await this.#writeSegment(this.quarantineDir, lease.file, parsed.text).then(
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
      lease = await this.#renew(lease, done);
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
      await this.#fs.rename(join(this.dir, lease.name), join(this.dir, lease.file));
      return;
    }
    // Still ours, with time to finish: nobody else can have started on it.
    lease = await this.#renew(lease, done);
    if (!lease) return;
    if (aside.length > 0) {
      await this.#ensureDirs();
      await this.#writeSegment(
        this.quarantineDir,
        newSegmentName(SEGMENT_SUFFIX),
        aside.map(encodeRecord).join(''),
      );
    }
    if (kept.length > 0) {
      await this.#writeSegment(this.dir, newSegmentName(SEGMENT_SUFFIX), kept.map(encodeRecord).join(''));
    }
    await this.#fs.unlink(join(this.dir, lease.name)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }

  /** Keeps quarantine within its bounds: files older than the age limit go, then the oldest beyond the count. */
  async #pruneQuarantine(): Promise<void> {
    const names = await this.#fs.readdir(this.quarantineDir).catch(() => [] as string[]);
    const now = Date.now();
    const files: { name: string; mtimeMs: number }[] = [];
    for (const name of names) {
      const info = await this.#fs.stat(join(this.quarantineDir, name)).catch(() => undefined);
      if (info) files.push({ name, mtimeMs: info.mtimeMs });
    }
    files.sort((a, b) => b.mtimeMs - a.mtimeMs);
    for (const [index, file] of files.entries()) {
      if (index >= this.#quarantineMaxFiles || now - file.mtimeMs > this.#quarantineMaxAgeMs) {
        await this.#fs.unlink(join(this.quarantineDir, file.name)).catch(() => undefined);
      }
    }
  }
}

interface ParsedFile {
  text: string;
  corrupt: number;
  records: SpoolRecord[];
}

/** A redeliverer's claim on a segment: the segment file renamed to `<file>.lease-<expiry>-<owner>-<done>`. */
interface Lease {
  /** The segment's own name, which its record ids keep. */
  file: string;
  /** The claim's current file name. */
  name: string;
  expiresAt: number;
  owner: string;
  /** Records at the start of the segment already delivered. */
  done: number;
}

const LEASE_PATTERN = /^(.+\.(?:seg|json))\.lease-(\d{15})-([0-9a-f]{12})-(\d{1,9})$/;

function makeLease(file: string, expiresAt: number, owner: string, done: number): Lease {
  const name = `${file}.lease-${expiresAt.toString().padStart(15, '0')}-${owner}-${done}`;
  return { file, name, expiresAt, owner, done };
}

function parseLease(name: string): Lease | undefined {
  const match = LEASE_PATTERN.exec(name);
  if (!match) return undefined;
  const [, file, expiry, owner, done] = match as unknown as [string, string, string, string, string];
  return { file, name, expiresAt: Number(expiry), owner, done: Number(done) };
}

function absentIsUndefined(error: unknown): undefined {
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
  throw error;
}

/** A first-format file: one JSON record, no checksum. */
function parseLegacy(text: string): { records: Omit<SpoolRecord, 'id'>[]; corrupt: number } {
  try {
    return { records: [decodeRecord(text)], corrupt: 0 };
  } catch {
    return { records: [], corrupt: 1 };
  }
}

function positive(value: number, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RocketMQError(
      ErrorCode.CONFIG_INVALID,
      `FileSpool ${name} must be a number > 0, got ${String(value)}`,
    );
  }
  return value;
}
