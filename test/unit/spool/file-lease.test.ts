import { mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { NODE_FILE_SYSTEM } from '../../../lib/spool/file-io.js';
import { FileLeases, makeLease, parseLease } from '../../../lib/spool/file-lease.js';

/** The file spool's claims: a segment renamed to a name that says until when, by whom, and how far. */

const SEGMENT = '000000000000001-aaaaaaaaaaaa.seg';
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'file-lease-'));
  await writeFile(join(dir, SEGMENT), 'records');
});
afterEach(async () => {
  vi.useRealTimers();
  await rm(dir, { recursive: true, force: true });
});

const leases = (owner: string, leaseMs = 1000) => new FileLeases(NODE_FILE_SYSTEM, dir, owner, leaseMs);

describe('lease names', () => {
  it('a claim name carries the segment, expiry, owner and progress, and parses back', () => {
    const lease = makeLease(SEGMENT, 1_700_000_000_000, 'a1b2c3d4e5f6', 7);
    expect(lease.name).toBe(`${SEGMENT}.lease-001700000000000-a1b2c3d4e5f6-7`);
    expect(parseLease(lease.name)).toEqual(lease);
  });

  it('other names are not claims: a segment, a partial file, a bad owner, a foreign suffix', () => {
    for (const name of [
      SEGMENT,
      `${SEGMENT}.partial`,
      `${SEGMENT}.lease-001700000000000-NOTHEX000000-1`,
      'notes.txt.lease-001700000000000-a1b2c3d4e5f6-1',
    ]) {
      expect(parseLease(name)).toBeUndefined();
    }
  });
});

describe('FileLeases', () => {
  it('of two redeliverers claiming one segment at once, exactly one wins', async () => {
    const results = await Promise.all([
      leases('aaaaaaaaaaaa').claim(SEGMENT),
      leases('bbbbbbbbbbbb').claim(SEGMENT),
    ]);
    const won = results.filter((lease) => lease !== undefined);
    expect(won).toHaveLength(1);
    expect(await readdir(dir)).toEqual([won[0]?.name]);
  });

  it('takes over an expired claim with its progress', async () => {
    const expired = makeLease(SEGMENT, Date.now() - 1, 'aaaaaaaaaaaa', 3);
    await rename(join(dir, SEGMENT), join(dir, expired.name));
    const taken = await leases('bbbbbbbbbbbb').claim(SEGMENT, expired);
    expect(taken).toMatchObject({ file: SEGMENT, owner: 'bbbbbbbbbbbb', done: 3 });
    expect(await readdir(dir)).toEqual([taken?.name]);
  });

  it('renews only for progress or when less than half is left, and fails once expired or taken over', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const mine = leases('aaaaaaaaaaaa', 1000);
    const claimed = (await mine.claim(SEGMENT)) as NonNullable<Awaited<ReturnType<FileLeases['claim']>>>;
    // Fresh and no progress: nothing to write.
    expect(await mine.renew(claimed, 0)).toBe(claimed);
    // Progress is recorded; the expiry stays while more than half is left.
    const progressed = await mine.renew(claimed, 2);
    expect(progressed).toMatchObject({ done: 2, expiresAt: claimed.expiresAt });
    vi.setSystemTime(Date.now() + 600);
    const extended = await mine.renew(progressed as typeof claimed, 2);
    expect(extended?.expiresAt).toBe(Date.now() + 1000);
    expect(await readdir(dir)).toEqual([extended?.name]);

    vi.setSystemTime((extended?.expiresAt as number) + 1);
    expect(await mine.renew(extended as typeof claimed, 3)).toBeUndefined();

    vi.setSystemTime(Date.now() - 500);
    await rm(join(dir, extended?.name as string));
    expect(await mine.renew(extended as typeof claimed, 3)).toBeUndefined();
  });
});
