import * as fsSync from 'node:fs';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The file spool's disk operations, and its one durable write: a segment is written under a partial
 * name, synced, renamed to its final name, and the directory synced, so that a crash leaves either the
 * whole segment under its final name or a partial file (which the next scan promotes or quarantines).
 * In two forms: asynchronous for group commit, synchronous for a drain's last moments.
 */

/** A file being written; renamed to its final name once synced. */
export const PARTIAL_SUFFIX = '.partial';

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

export const NODE_FILE_SYSTEM: SpoolFileSystem = {
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

/** Undefined for ENOENT (a file that is not there); any other error is thrown again. */
export function absentIsUndefined(error: unknown): undefined {
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
  throw error;
}

/** Writes `lines` as one new file in `dir`, durable under its final name when this resolves. */
export async function writeSegment(
  files: SpoolFileSystem,
  dir: string,
  file: string,
  lines: string,
): Promise<void> {
  const target = join(dir, file);
  const partial = `${target}${PARTIAL_SUFFIX}`;
  let handle: fs.FileHandle | undefined;
  try {
    handle = await files.open(partial, 'wx', 0o600);
    await handle.writeFile(lines);
    await handle.datasync();
    await handle.close();
    handle = undefined;
    await files.rename(partial, target);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await files.unlink(partial).catch(() => undefined);
    throw error;
  }
  // The rename is durable only once the directory itself is synced.
  const directory = await files.open(dir, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

/** {@link writeSegment}, synchronously. */
export function writeSegmentSync(files: SpoolFileSystem, dir: string, file: string, lines: string): void {
  const target = join(dir, file);
  const partial = `${target}${PARTIAL_SUFFIX}`;
  let fd: number | undefined;
  try {
    fd = files.openSync(partial, 'wx', 0o600);
    // One write call may write less than asked: go on until all of it is out.
    let bytes = Buffer.from(lines);
    while (bytes.length > 0) bytes = bytes.subarray(files.writeSync(fd, bytes));
    files.fdatasyncSync(fd);
    files.closeSync(fd);
    fd = undefined;
    files.renameSync(partial, target);
  } catch (error) {
    if (fd !== undefined) fsSync.closeSync(fd);
    try {
      files.unlinkSync(partial);
    } catch {
      // nothing was created
    }
    throw error;
  }
  const directory = files.openSync(dir, 'r');
  try {
    files.fsyncSync(directory);
  } finally {
    files.closeSync(directory);
  }
}
