import { randomBytes } from 'node:crypto';

const EPOCH_2021_SECONDS = Date.UTC(2021, 0, 1) / 1000;
// Stands in for the MAC address of the id layout; random so two brokers never mint the same id.
const NODE_ID = randomBytes(6);
let sequence = 0;

/**
 * Mints an id in the RocketMQ 5 (version 0x01) layout the clients use for message ids:
 * version, 6-byte node id, low 2 bytes of the pid, seconds since 2021-01-01 and a 4-byte sequence,
 * as 34 upper-case hex characters. The broker uses it for the ids it owns, such as transaction ids.
 */
export function createMessageId(now = Date.now()): string {
  const id = Buffer.alloc(17);
  id.writeUInt8(0x01, 0);
  NODE_ID.copy(id, 1);
  id.writeUInt16BE(process.pid & 0xffff, 7);
  id.writeUInt32BE(Math.floor(now / 1000 - EPOCH_2021_SECONDS) >>> 0, 9);
  id.writeUInt32BE(sequence, 13);
  sequence = (sequence + 1) >>> 0;
  return id.toString('hex').toUpperCase();
}
