import type * as fsSync from 'node:fs';
import { join } from 'node:path';
import {
  absentIsUndefined,
  PARTIAL_SUFFIX,
  type SpoolFileSystem,
  writeSegment,
  writeSegmentSync,
} from './file-io.js';
import { type Lease, parseLease } from './file-lease.js';
import { beyondBounds, type QuarantineBounds } from './limits.js';
import { decodeRecord, parseSegment } from './segment.js';
import type { SpoolRecord } from './spool.js';

/**
 * The directory of a {@link FileSpool}: which files in it are segments, claims and leftovers of a crash,
 * reading a segment back, and quarantine (`quarantine/` inside it). It also decides whether the
 * directory can be trusted at all: its records are sent with this process's credentials.
 */

export const SEGMENT_SUFFIX = '.seg';
/** Single-record files of the first format; still read and redelivered, never written. */
const LEGACY_SUFFIX = '.json';
const QUARANTINE_DIR = 'quarantine';
/** A partial file older than this was left by a process that died while writing it. */
const ABANDONED_PARTIAL_MS = 30_000;

export interface ParsedFile {
  text: string;
  corrupt: number;
  records: SpoolRecord[];
}

/** A first-format file: one JSON record, no checksum. */
function parseLegacy(text: string): { records: Omit<SpoolRecord, 'id'>[]; corrupt: number } {
  try {
    return { records: [decodeRecord(text)], corrupt: 0 };
  } catch {
    return { records: [], corrupt: 1 };
  }
}

export class SpoolDirectory {
  readonly dir: string;
  readonly quarantineDir: string;
  readonly fs: SpoolFileSystem;
  #ready: Promise<void> | undefined;
  #trusted = false;

  constructor(dir: string, files: SpoolFileSystem) {
    this.dir = dir;
    this.quarantineDir = join(dir, QUARANTINE_DIR);
    this.fs = files;
  }

  /** Checks the directory once and creates it (and quarantine inside it), mode 0700. */
  ensure(): Promise<void> {
    if (!this.#ready) {
      // Synchronous, once: a drain's first flush must not wait an extra thread-pool turn for it.
      try {
        this.#checkSync();
      } catch (error) {
        return Promise.reject(error);
      }
    }
    this.#ready ??= this.fs.mkdir(this.quarantineDir, { recursive: true, mode: 0o700 }).then(
      () => undefined,
      (error: unknown) => {
        this.#ready = undefined;
        throw error;
      },
    );
    return this.#ready;
  }

  /** Writes a new segment, durably; `quarantine` puts it in quarantine instead. */
  async write(file: string, lines: string, where: 'live' | 'quarantine' = 'live'): Promise<void> {
    await this.ensure();
    await writeSegment(this.fs, where === 'live' ? this.dir : this.quarantineDir, file, lines);
  }

  /** {@link write} of a live segment, synchronously. */
  writeSync(file: string, lines: string): void {
    this.#checkSync();
    this.fs.mkdirSync(this.quarantineDir, { recursive: true, mode: 0o700 });
    writeSegmentSync(this.fs, this.dir, file, lines);
  }

  /**
   * Refuses a directory that someone else could have filled: one owned by another user, writable by
   * group or others, or a symbolic link. A record found there would be sent with this process's
   * credentials. Checked once per spool, before its first read or write; a missing directory is fine
   * (it is created mode 0700).
   */
  #trust(info: fsSync.Stats | undefined): void {
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

  async #check(): Promise<void> {
    if (this.#trusted) return;
    this.#trust(await this.fs.lstat(this.dir).catch(absentIsUndefined));
  }

  #checkSync(): void {
    if (this.#trusted) return;
    let info: fsSync.Stats | undefined;
    try {
      info = this.fs.lstatSync(this.dir);
    } catch (error) {
      info = absentIsUndefined(error);
    }
    this.#trust(info);
  }

  /** Moves a file into quarantine under `name`; best effort, the evidence matters less than going on. */
  async quarantine(from: string, name = from): Promise<boolean> {
    await this.ensure();
    return this.fs.rename(join(this.dir, from), join(this.quarantineDir, name)).then(
      () => true,
      () => false,
    );
  }

  /** Promotes whole partial files left by a crash and quarantines torn ones. */
  async #recoverPartials(files: readonly string[]): Promise<void> {
    for (const file of files.filter((name) => name.endsWith(PARTIAL_SUFFIX))) {
      const path = join(this.dir, file);
      const info = await this.fs.stat(path).catch(() => undefined);
      if (!info || Date.now() - info.mtimeMs < ABANDONED_PARTIAL_MS) continue;
      const text = await this.fs.readFile(path, 'utf8').catch(() => '');
      const legacy = file.endsWith(`${LEGACY_SUFFIX}${PARTIAL_SUFFIX}`);
      const { records, corrupt } = legacy ? parseLegacy(text) : parseSegment(text);
      if (corrupt === 0 && records.length > 0) {
        await this.fs.rename(path, path.slice(0, -PARTIAL_SUFFIX.length)).catch(() => undefined);
      } else {
        await this.quarantine(file);
      }
    }
  }

  /** The spool's files: segments nobody holds, and claims, oldest first. Recovers partials on the way. */
  async scan(): Promise<{ free: string[]; leases: Lease[] }> {
    await this.#check();
    let files: string[];
    try {
      files = await this.fs.readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { free: [], leases: [] };
      throw error;
    }
    if (files.some((name) => name.endsWith(PARTIAL_SUFFIX))) {
      await this.#recoverPartials(files);
      files = await this.fs.readdir(this.dir);
    }
    const free = files.filter((name) => name.endsWith(SEGMENT_SUFFIX) || name.endsWith(LEGACY_SUFFIX));
    const leases = files.map(parseLease).filter((lease): lease is Lease => lease !== undefined);
    const byFile = (a: { file: string }, b: { file: string }) => (a.file < b.file ? -1 : 1);
    return { free: free.sort(), leases: leases.sort(byFile) };
  }

  /** Reads the file `name`, a segment first named `file` (whose name the record ids keep); undefined when it is gone. */
  async read(name: string, file: string): Promise<ParsedFile | undefined> {
    let text: string;
    try {
      text = await this.fs.readFile(join(this.dir, name), 'utf8');
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

  /** Removes the file `name`; one that is gone already is fine. */
  async remove(name: string): Promise<void> {
    await this.fs.unlink(join(this.dir, name)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }

  /** Keeps quarantine within its bounds: files older than the age limit go, then the oldest beyond the count. */
  async pruneQuarantine(bounds: QuarantineBounds): Promise<void> {
    const names = await this.fs.readdir(this.quarantineDir).catch(() => [] as string[]);
    const files: { name: string; modifiedAt: number }[] = [];
    for (const name of names) {
      const info = await this.fs.stat(join(this.quarantineDir, name)).catch(() => undefined);
      if (info) files.push({ name, modifiedAt: info.mtimeMs });
    }
    for (const file of beyondBounds(files, bounds, Date.now())) {
      await this.fs.unlink(join(this.quarantineDir, file.name)).catch(() => undefined);
    }
  }
}
