import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, crc32Portable } from '../../infra/build/crc32-shim.js';
import { createZip } from '../../infra/build/zip.js';
import { readZip } from './support/zip-reader.js';

function hasUnzip(): boolean {
  try {
    execFileSync('unzip', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const text = Buffer.from('exports.handler = async () => 42;\n'.repeat(200));
const random = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24));

describe('createZip', () => {
  it('round-trips entries: names, bytes, CRC, mode, fixed timestamp', () => {
    const zip = createZip([
      { name: 'index.js', data: text },
      { name: 'index.js.map', data: random },
      { name: 'lib/ünïcode.txt', data: Buffer.from('é'), mode: 0o755 },
      { name: 'empty.txt', data: Buffer.alloc(0) },
    ]);
    const entries = readZip(zip);
    expect(entries.map((entry) => entry.name)).toEqual([
      'index.js',
      'index.js.map',
      'lib/ünïcode.txt',
      'empty.txt',
    ]);
    expect(entries[0]?.data.equals(text)).toBe(true);
    expect(entries[1]?.data.equals(random)).toBe(true);
    expect(entries[2]?.data.toString()).toBe('é');
    expect(entries[3]?.data.length).toBe(0);
    expect(entries[0]?.method).toBe(8); // repetitive text deflates
    expect(entries[2]?.mode).toBe(0o755);
    expect(entries[0]?.mode).toBe(0o644);
    expect(entries.every((entry) => entry.dosDate === 33 && entry.dosTime === 0)).toBe(true);
  });

  it('stores an entry that deflate would make larger', () => {
    const tiny = Buffer.from([0x8f]);
    const [entry] = readZip(createZip([{ name: 'x.bin', data: tiny }]));
    expect(entry?.method).toBe(0);
    expect(entry?.data.equals(tiny)).toBe(true);
  });

  it('is deterministic: the same input gives the same bytes', () => {
    const a = createZip([{ name: 'index.js', data: text }]);
    const b = createZip([{ name: 'index.js', data: Buffer.from(text) }]);
    expect(a.equals(b)).toBe(true);
  });

  it.each(['', '/abs.js', '../up.js', 'a\\b.js', 'a/../../b'])('rejects the entry name %j', (name) => {
    expect(() => createZip([{ name, data: text }])).toThrow(/relative path/);
  });

  it('rejects duplicate names', () => {
    expect(() =>
      createZip([
        { name: 'a', data: text },
        { name: 'a', data: text },
      ]),
    ).toThrow(/duplicate/);
  });

  it.skipIf(!hasUnzip())('passes `unzip -t` (an independent reader)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zip-test-'));
    try {
      const file = join(dir, 'code.zip');
      writeFileSync(
        file,
        createZip([
          { name: 'index.js', data: text },
          { name: 'b/c.bin', data: random },
        ]),
      );
      const output = execFileSync('unzip', ['-t', file], { encoding: 'utf8' });
      expect(output).toMatch(/No errors detected/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the @node-rs/crc32 stand-in', () => {
  it.each([
    ['empty', Buffer.alloc(0)],
    ['text', text],
    ['random', random],
  ])('matches zlib CRC-32 on %s input, also when chained', (_name, data) => {
    expect(crc32(data)).toBe(zlibCrc32(data));
    expect(crc32Portable(data)).toBe(zlibCrc32(data));
    expect(crc32Portable(data, 0x12345678)).toBe(zlibCrc32(data, 0x12345678));
    expect(crc32Portable('hello')).toBe(0x3610a686);
  });
});
