import { ErrorCode, EventError } from '../errors.js';
import type { PreparedMessage } from '../message.js';

/**
 * Packing: several records in ONE RocketMQ message, for high-volume streams (log lines, metrics).
 *
 * A RocketMQ 5 proxy stores every message of a multi-message SendMessage with the first message's tag,
 * keys, message id and properties, so several messages must not share one send. A pack is the honest
 * alternative: one message with one id and one tag, whose body holds the records and whose properties
 * say it is a pack. {@link unpack} turns any received message back into records; a message that is not
 * a pack comes back as one record, so a consumer can call it on every message.
 *
 * Body layout (format 1), one frame per record, in order:
 *   uint32 BE header length, header (UTF-8 JSON `{"k": [keys], "p": {properties}}`, omitted when empty),
 *   uint32 BE body length, body bytes.
 */

/** `content-type` of a pack message. */
export const PACK_CONTENT_TYPE = 'application/vnd.rocketmq-serverless.pack';
/** Property holding the pack format version. */
export const PACK_FORMAT_PROPERTY = 'pack-format';
/** Property holding the number of records in the pack. */
export const PACK_RECORDS_PROPERTY = 'pack-records';
export const PACK_FORMAT_VERSION = 1;

const FRAME_OVERHEAD = 8;

/** Where a record sat in its pack. */
export interface PackPosition {
  /** Position in the pack, from 0. */
  index: number;
  /** Records in the pack. */
  count: number;
}

/** One record as {@link unpack} returns it. */
export interface UnpackedRecord {
  body: Buffer;
  keys: string[];
  /**
   * The record's own properties over the message's user properties (e.g. `traceparent`); the pack's
   * own markers (`content-type`, `pack-format`, `pack-records`) are not included for a packed record.
   */
  properties: Record<string, string>;
  /** Set when the record came out of a pack; `undefined` for a message that was not a pack. */
  pack: PackPosition | undefined;
}

/** What {@link unpack} needs of a received message. */
export interface PackedMessageLike {
  body: Uint8Array;
  properties?: Readonly<Record<string, string>> | undefined;
  keys?: readonly string[] | undefined;
}

/** Whether a message's user properties mark it as a pack. */
export function isPack(properties: Readonly<Record<string, string>> | undefined): boolean {
  return properties?.[PACK_FORMAT_PROPERTY] !== undefined && properties['content-type'] === PACK_CONTENT_TYPE;
}

interface RecordHeader {
  k?: string[];
  p?: Record<string, string>;
}

function corrupt(detail: string): EventError {
  return new EventError(ErrorCode.EVENT_INVALID, `invalid pack: ${detail}`, { field: 'body' });
}

/** One frame of the body: the record's header (keys, properties) and body, each after its length. */
export function encodeFrame(record: PreparedMessage): Buffer {
  const header: RecordHeader = {};
  if (record.keys.length > 0) header.k = [...record.keys];
  if (Object.keys(record.properties).length > 0) header.p = { ...record.properties };
  const headerBytes = header.k || header.p ? Buffer.from(JSON.stringify(header), 'utf8') : Buffer.alloc(0);
  const frame = Buffer.allocUnsafe(FRAME_OVERHEAD + headerBytes.length + record.body.length);
  frame.writeUInt32BE(headerBytes.length, 0);
  headerBytes.copy(frame, 4);
  frame.writeUInt32BE(record.body.length, 4 + headerBytes.length);
  record.body.copy(frame, FRAME_OVERHEAD + headerBytes.length);
  return frame;
}

function parseHeader(bytes: Buffer): RecordHeader {
  if (bytes.length === 0) return {};
  let header: unknown;
  try {
    header = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw corrupt('a record header is not JSON');
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw corrupt('a record header is not an object');
  }
  const { k, p } = header as RecordHeader;
  if (k !== undefined && (!Array.isArray(k) || k.some((key) => typeof key !== 'string'))) {
    throw corrupt('record keys are not strings');
  }
  if (
    p !== undefined &&
    (p === null ||
      typeof p !== 'object' ||
      Array.isArray(p) ||
      Object.values(p).some((value) => typeof value !== 'string'))
  ) {
    throw corrupt('record properties are not strings');
  }
  return { ...(k && { k }), ...(p && { p }) };
}

/**
 * The records of a received message: a pack's records in order, or the message itself as one record.
 * Throws an {@link EventError} (EVENT_INVALID) for a pack that is corrupt or of a newer format.
 */
export function unpack(message: PackedMessageLike): UnpackedRecord[] {
  const properties = message.properties ?? {};
  const body = Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength);
  if (!isPack(properties)) {
    return [{ body, keys: [...(message.keys ?? [])], properties: { ...properties }, pack: undefined }];
  }
  const version = properties[PACK_FORMAT_PROPERTY];
  if (version !== String(PACK_FORMAT_VERSION)) {
    throw corrupt(`format ${JSON.stringify(version)} is not one this library reads (${PACK_FORMAT_VERSION})`);
  }
  const declared = Number(properties[PACK_RECORDS_PROPERTY]);
  const {
    'content-type': _type,
    [PACK_FORMAT_PROPERTY]: _format,
    [PACK_RECORDS_PROPERTY]: _count,
    ...inherited
  } = properties;
  const frames: { header: RecordHeader; body: Buffer }[] = [];
  let offset = 0;
  while (offset < body.length) {
    if (offset + 4 > body.length) throw corrupt('truncated record header length');
    const headerLength = body.readUInt32BE(offset);
    const headerEnd = offset + 4 + headerLength;
    if (headerEnd + 4 > body.length) throw corrupt('truncated record header');
    const header = parseHeader(body.subarray(offset + 4, headerEnd));
    const bodyLength = body.readUInt32BE(headerEnd);
    const bodyEnd = headerEnd + 4 + bodyLength;
    if (bodyEnd > body.length) throw corrupt('truncated record body');
    frames.push({ header, body: body.subarray(headerEnd + 4, bodyEnd) });
    offset = bodyEnd;
  }
  if (!Number.isInteger(declared) || declared !== frames.length) {
    throw corrupt(
      `${PACK_RECORDS_PROPERTY} says ${properties[PACK_RECORDS_PROPERTY]}, the body holds ${frames.length}`,
    );
  }
  return frames.map(({ header, body: recordBody }, index) => ({
    body: recordBody,
    keys: header.k ?? [],
    properties: { ...inherited, ...header.p },
    pack: { index, count: frames.length },
  }));
}
