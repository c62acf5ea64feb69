import { crc32 } from 'node:zlib';
import type { ErrorCode } from '../errors.js';
import type { PreparedMessage } from '../message.js';
import type { SpoolRecord } from './spool.js';

/**
 * The on-disk form of spool records. A segment is a text file of lines, one record each:
 * `<crc32 of the JSON, 8 hex digits> <JSON>\n`. A line whose checksum does not match, or a last line
 * without its newline (a torn write), is corrupt; the lines around it still count.
 */

const FORMAT_VERSION = 2;
/** Records of the first format (one JSON file each) carry version 1 and their own id. */
const LEGACY_VERSION = 1;

interface StoredRecord {
  v: number;
  spooledAt: number;
  redeliveryAttempts: number;
  error: { code: ErrorCode; message: string };
  message: {
    topic: string;
    tag?: string;
    keys: string[];
    properties: Record<string, string>;
    body: string;
    messageGroup?: string;
    deliveryTimestamp?: number;
  };
}

export type UnplacedRecord = Omit<SpoolRecord, 'id'>;

function checksum(json: string): string {
  return crc32(json).toString(16).padStart(8, '0');
}

/**
 * JSON of a string, remembering the last one asked for: the records a drain writes in a row mostly
 * share their topic and their error (the same string objects), and quoting them again each time was a
 * tenth of the cost of a record.
 */
class LastQuoted {
  #text: string | undefined;
  #json = '';

  of(text: string): string {
    if (text !== this.#text) {
      this.#text = text;
      this.#json = JSON.stringify(text);
    }
    return this.#json;
  }
}

const topics = new LastQuoted();
const codes = new LastQuoted();
const reasons = new LastQuoted();

/**
 * One segment line for a record, newline included. The JSON is put together from its parts rather than
 * through an intermediate object: a drain may encode thousands of records against its deadline, and
 * this is a third faster. The checksum is taken over the UTF-8 bytes, which are then written as they are.
 */
export function encodeRecord(record: UnplacedRecord): string {
  const { message } = record;
  let json =
    `{"v":${FORMAT_VERSION},"spooledAt":${record.spooledAt},"redeliveryAttempts":${record.redeliveryAttempts}` +
    `,"error":{"code":${codes.of(record.error.code)},"message":${reasons.of(record.error.message)}}` +
    `,"message":{"topic":${topics.of(message.topic)},"keys":${JSON.stringify(message.keys)}` +
    `,"properties":${JSON.stringify(message.properties)},"body":"${message.body.toString('base64')}"`;
  if (message.tag !== undefined) json += `,"tag":${JSON.stringify(message.tag)}`;
  if (message.messageGroup !== undefined) json += `,"messageGroup":${JSON.stringify(message.messageGroup)}`;
  if (message.deliveryTimestamp !== undefined) json += `,"deliveryTimestamp":${message.deliveryTimestamp}`;
  json += '}}';
  return `${checksum(json)} ${json}\n`;
}

const isString = (value: unknown): value is string => typeof value === 'string';

/** Parses and checks one record's JSON; anything unexpected makes it corrupt rather than half-trusted. */
export function decodeRecord(json: string): UnplacedRecord {
  const raw = JSON.parse(json) as Partial<StoredRecord> | null;
  const m = raw?.message;
  const valid =
    raw !== null &&
    typeof raw === 'object' &&
    (raw.v === FORMAT_VERSION || raw.v === LEGACY_VERSION) &&
    typeof raw.spooledAt === 'number' &&
    typeof raw.redeliveryAttempts === 'number' &&
    isString(raw.error?.code) &&
    isString(raw.error?.message) &&
    m !== undefined &&
    m !== null &&
    typeof m === 'object' &&
    isString(m.topic) &&
    isString(m.body) &&
    Array.isArray(m.keys) &&
    m.keys.every(isString) &&
    m.properties !== null &&
    typeof m.properties === 'object' &&
    Object.values(m.properties).every(isString) &&
    (m.tag === undefined || isString(m.tag)) &&
    (m.messageGroup === undefined || isString(m.messageGroup)) &&
    (m.deliveryTimestamp === undefined || typeof m.deliveryTimestamp === 'number');
  if (!valid || !raw || !m) throw new Error('record does not have the spool record shape');
  const body = Buffer.from(m.body, 'base64');
  // Node decodes any string as base64, skipping what is not; only canonical base64 is a body we wrote.
  if (body.toString('base64') !== m.body) throw new Error('record body is not canonical base64');
  const properties: Record<string, string> = Object.create(null);
  for (const [key, value] of Object.entries(m.properties)) properties[key] = value;
  const message: PreparedMessage = {
    topic: m.topic,
    tag: m.tag,
    keys: m.keys,
    properties,
    body,
    messageGroup: m.messageGroup,
    deliveryTimestamp: m.deliveryTimestamp,
  };
  return {
    message,
    error: raw.error as StoredRecord['error'],
    spooledAt: raw.spooledAt as number,
    redeliveryAttempts: raw.redeliveryAttempts as number,
  };
}

/** The records of a segment in order, and how many of its lines were corrupt. */
export function parseSegment(text: string): { records: UnplacedRecord[]; corrupt: number } {
  const records: UnplacedRecord[] = [];
  let corrupt = 0;
  const lines = text.split('\n');
  // Text ending in a newline leaves one empty string at the end; anything else there is a torn line.
  const tail = lines.pop();
  if (tail !== undefined && tail !== '') corrupt++;
  for (const line of lines) {
    const json = line.slice(9);
    if (line[8] !== ' ' || checksum(json) !== line.slice(0, 8)) {
      corrupt++;
      continue;
    }
    try {
      records.push(decodeRecord(json));
    } catch {
      corrupt++;
    }
  }
  return { records, corrupt };
}
