import * as zlib from 'node:zlib';

/**
 * Stands in for `@node-rs/crc32` (a native addon the RocketMQ client imports, used only to verify bodies
 * of received messages): native addons cannot be bundled, and the same CRC-32 (IEEE) is in `node:zlib`
 * since Node 20.15. The table fallback keeps older Node 20 runtimes working.
 */

type Crc32 = (input: Uint8Array | string, initialState?: number | null) => number;

let table: Uint32Array | undefined;

function crc32Table(): Uint32Array {
  if (table) return table;
  table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

function crc32Portable(input: Uint8Array | string, initialState?: number | null): number {
  const bytes = typeof input === 'string' ? Buffer.from(input) : input;
  const lookup = crc32Table();
  let crc = ~(initialState ?? 0) >>> 0;
  for (const byte of bytes) crc = (lookup[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return ~crc >>> 0;
}

const native = (zlib as { crc32?: (data: Uint8Array | string, value?: number) => number }).crc32;

export const crc32: Crc32 = native
  ? (input, initialState) => native(input, initialState ?? 0)
  : crc32Portable;

export { crc32Portable };
