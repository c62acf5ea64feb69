import { join } from 'node:path';
import type { SpoolFileSystem } from './file-io.js';

/**
 * Claims on the segments of a {@link FileSpool}, so that of several redeliverers sharing a directory
 * one works on a segment at a time. A claim is the segment file itself, renamed to a name that says
 * until when, by whom, and how far: a rename is atomic, so of two redeliverers renaming the same name
 * one finds it gone.
 */

/** A redeliverer's claim on a segment: the segment file renamed to `<file>.lease-<expiry>-<owner>-<done>`. */
export interface Lease {
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

export function makeLease(file: string, expiresAt: number, owner: string, done: number): Lease {
  const name = `${file}.lease-${expiresAt.toString().padStart(15, '0')}-${owner}-${done}`;
  return { file, name, expiresAt, owner, done };
}

/** The claim a file name stands for; undefined for any other file. */
export function parseLease(name: string): Lease | undefined {
  const match = LEASE_PATTERN.exec(name);
  if (!match) return undefined;
  const [, file, expiry, owner, done] = match as unknown as [string, string, string, string, string];
  return { file, name, expiresAt: Number(expiry), owner, done: Number(done) };
}

export class FileLeases {
  readonly #fs: SpoolFileSystem;
  readonly #dir: string;
  readonly #owner: string;
  readonly #leaseMs: number;

  constructor(files: SpoolFileSystem, dir: string, owner: string, leaseMs: number) {
    this.#fs = files;
    this.#dir = dir;
    this.#owner = owner;
    this.#leaseMs = leaseMs;
  }

  /** Renames `from` to `to`; false when `from` is gone (another redeliverer renamed it first). */
  async #move(from: string, to: string): Promise<boolean> {
    try {
      await this.#fs.rename(join(this.#dir, from), join(this.#dir, to));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }

  /**
   * Claims a segment by renaming it (or an expired claim on it) to a claim name of this spool's own,
   * keeping the expired claim's progress. Undefined when another one got there first.
   */
  async claim(file: string, expired?: Lease): Promise<Lease | undefined> {
    const lease = makeLease(file, Date.now() + this.#leaseMs, this.#owner, expired?.done ?? 0);
    return (await this.#move(expired?.name ?? file, lease.name)) ? lease : undefined;
  }

  /**
   * Renames a held claim to record progress and, when less than half of it is left, a new expiry.
   * Undefined when the claim is gone: it expired and another redeliverer took it over.
   */
  async renew(lease: Lease, done: number): Promise<Lease | undefined> {
    const now = Date.now();
    const expiresAt = lease.expiresAt - now < this.#leaseMs / 2 ? now + this.#leaseMs : lease.expiresAt;
    if (expiresAt === lease.expiresAt && done === lease.done) return lease;
    if (lease.expiresAt <= now) return undefined;
    const renewed = makeLease(lease.file, expiresAt, this.#owner, done);
    return (await this.#move(lease.name, renewed.name)) ? renewed : undefined;
  }

  /** Gives an untouched segment back under its own name. */
  async giveBack(lease: Lease): Promise<void> {
    await this.#fs.rename(join(this.#dir, lease.name), join(this.#dir, lease.file));
  }
}
