import { crc32, inflateRawSync } from 'node:zlib';

/**
 * Reads a zip back for tests, independently of the writer: it starts from the end record, walks the
 * central directory, checks each local header against it, inflates and verifies CRC-32 and sizes.
 */

export interface ZipFileEntry {
  name: string;
  data: Buffer;
  method: number;
  /** Unix mode from the external attributes (when the archive was made on Unix). */
  mode: number;
  dosDate: number;
  dosTime: number;
}

export function readZip(zip: Buffer): ZipFileEntry[] {
  const endAt = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (endAt < 0 || endAt + 22 > zip.length) throw new Error('no end of central directory record');
  const count = zip.readUInt16LE(endAt + 10);
  const directorySize = zip.readUInt32LE(endAt + 12);
  let at = zip.readUInt32LE(endAt + 16);
  if (at + directorySize !== endAt)
    throw new Error('central directory does not end where the end record starts');
  const entries: ZipFileEntry[] = [];
  for (let index = 0; index < count; index++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`entry ${index}: bad central header signature`);
    const flags = zip.readUInt16LE(at + 8);
    const method = zip.readUInt16LE(at + 10);
    const dosTime = zip.readUInt16LE(at + 12);
    const dosDate = zip.readUInt16LE(at + 14);
    const checksum = zip.readUInt32LE(at + 16);
    const compressedSize = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const external = zip.readUInt32LE(at + 38);
    const localAt = zip.readUInt32LE(at + 42);
    const name = zip.toString(flags & 0x0800 ? 'utf8' : 'latin1', at + 46, at + 46 + nameLength);

    if (zip.readUInt32LE(localAt) !== 0x04034b50) throw new Error(`${name}: bad local header signature`);
    if (zip.readUInt32LE(localAt + 14) !== checksum) throw new Error(`${name}: local and central CRC differ`);
    if (zip.readUInt32LE(localAt + 18) !== compressedSize) throw new Error(`${name}: sizes differ`);
    const localName = zip.readUInt16LE(localAt + 26);
    const localExtra = zip.readUInt16LE(localAt + 28);
    const dataAt = localAt + 30 + localName + localExtra;
    const raw = zip.subarray(dataAt, dataAt + compressedSize);
    let data: Buffer;
    if (method === 0) data = Buffer.from(raw);
    else if (method === 8) data = inflateRawSync(raw);
    else throw new Error(`${name}: unsupported method ${method}`);
    if (data.length !== size) throw new Error(`${name}: ${data.length} bytes, header says ${size}`);
    if (crc32(data) !== checksum) throw new Error(`${name}: CRC-32 mismatch`);

    entries.push({ name, data, method, mode: (external >>> 16) & 0o7777, dosDate, dosTime });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}
