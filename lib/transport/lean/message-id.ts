import { networkInterfaces } from 'node:os';

/**
 * Message ids in the layout of the RocketMQ 5 clients: version 01, the lower 6 bytes of a MAC address,
 * the lower 2 bytes of the pid, seconds since 2021-01-01 UTC (4 bytes) and a sequence (4 bytes), as
 * upper-case hex. The id is the message's UNIQ_KEY, so it must be unique per message, not per attempt.
 */

const SINCE_2021_S = Date.UTC(2021, 0, 1) / 1000;

function macAddress(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (!address.internal && address.mac && address.mac !== '00:00:00:00:00:00') {
        return address.mac.replaceAll(':', '');
      }
    }
  }
  return '000000000000';
}

const buffer = Buffer.alloc(17);
buffer[0] = 1;
buffer.write(macAddress(), 1, 'hex');
buffer.writeUInt16BE(process.pid % 0xffff, 7);
let sequence = 0;

export function createMessageId(now: number): string {
  buffer.writeUInt32BE((Math.floor(now / 1000) - SINCE_2021_S) >>> 0, 9);
  buffer.writeUInt32BE(sequence, 13);
  sequence = sequence === 0xffffffff ? 0 : sequence + 1;
  return buffer.toString('hex').toUpperCase();
}
