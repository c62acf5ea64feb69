import type { S3Event } from 'aws-lambda';
import {
  type EventObject,
  invalidField,
  optionalString,
  requireArray,
  requireObject,
  requireSize,
  requireString,
  requireTimestamp,
} from './fields.js';
import { decodeEvent, type EventInput } from './json.js';
import { resolveLimits } from './options.js';

/**
 * Object storage notifications of FC's OSS trigger and of S3, mapped to one {@link ObjectEvent} per
 * record. A notification is all-or-nothing: one malformed record rejects the whole event, so a handler
 * never acts on part of a batch and reports success for the rest.
 */

export interface ObjectEvent {
  source: 'oss' | 's3';
  bucket: string;
  /** The object key as stored, e.g. `uploads/a b.png` (S3's URL-encoding removed). */
  key: string;
  /** Bytes; 0 for removal events, which carry no size. */
  size: number;
  eTag?: string;
  /** As the platform names it: `ObjectCreated:PutObject` (OSS), `ObjectCreated:Put` (S3). */
  eventType: string;
  /** ISO 8601, UTC. */
  time: string;
  region: string;
}

/** The FC OSS trigger event (a Buffer of JSON when it reaches the handler). */
export interface OssEvent {
  events: Array<{
    eventName: string;
    eventSource: string;
    eventTime: string;
    eventVersion?: string;
    region: string;
    oss: {
      bucket: { name: string; arn?: string; ownerIdentity?: string };
      object: { key: string; size?: number; eTag?: string; deltaSize?: number };
      ossSchemaVersion?: string;
      ruleId?: string;
    };
    requestParameters?: { sourceIPAddress?: string };
    responseElements?: { requestId?: string };
    userIdentity?: { principalId?: string };
  }>;
}

export const OBJECT_EVENT_DEFAULTS = Object.freeze({
  /** More records than this is EVENT_INVALID: a bound on the work one invocation may be asked to do. */
  maxRecords: 1000,
});

export interface ObjectEventOptions {
  /** @default 1000 */
  maxRecords?: number;
}

interface Dialect {
  source: ObjectEvent['source'];
  kind: string;
  list: string;
  detail: string;
  expectedEventSource: string;
  regionField: string;
  decodeKey: (key: string, kind: string, field: string) => string;
}

// OSS puts the key into the event as stored: FC's samples hand `oss.object.key` straight to the OSS SDK,
// and no FC document mentions encoding. (Not verified on a live account with non-ASCII keys.)
const OSS: Dialect = {
  source: 'oss',
  kind: 'OSS event',
  list: 'events',
  detail: 'oss',
  expectedEventSource: 'acs:oss',
  regionField: 'region',
  decodeKey: (key) => key,
};

// S3 URL-encodes keys in notifications, with "+" for a space (form encoding), so "+" itself arrives as %2B.
const S3: Dialect = {
  source: 's3',
  kind: 'S3 event',
  list: 'Records',
  detail: 's3',
  expectedEventSource: 'aws:s3',
  regionField: 'awsRegion',
  decodeKey: (key, kind, field) => {
    try {
      return decodeURIComponent(key.replaceAll('+', ' '));
    } catch {
      throw invalidField(kind, field, 'is not valid URL-encoding');
    }
  },
};

function mapRecord(record: unknown, at: string, dialect: Dialect): ObjectEvent {
  const { kind } = dialect;
  const item = requireObject(record, kind, at);
  const eventSource = optionalString(item.eventSource, kind, `${at}.eventSource`);
  if (eventSource !== undefined && eventSource !== dialect.expectedEventSource) {
    throw invalidField(kind, `${at}.eventSource`, `must be "${dialect.expectedEventSource}"`);
  }
  const eventType = requireString(item.eventName, kind, `${at}.eventName`);
  const detailField = `${at}.${dialect.detail}`;
  const detail = requireObject(item[dialect.detail], kind, detailField);
  const bucket = requireObject(detail.bucket, kind, `${detailField}.bucket`);
  const object = requireObject(detail.object, kind, `${detailField}.object`);
  const keyField = `${detailField}.object.key`;
  const key = dialect.decodeKey(requireString(object.key, kind, keyField), kind, keyField);
  // Removal notifications describe an object that is gone: no size, no eTag.
  const removed = eventType.startsWith('ObjectRemoved:');
  const size =
    removed && object.size === undefined ? 0 : requireSize(object.size, kind, `${detailField}.object.size`);
  const event: ObjectEvent = {
    source: dialect.source,
    bucket: requireString(bucket.name, kind, `${detailField}.bucket.name`),
    key,
    size,
    eventType,
    time: requireTimestamp(item.eventTime, kind, `${at}.eventTime`),
    region: requireString(item[dialect.regionField], kind, `${at}.${dialect.regionField}`),
  };
  const eTag = optionalString(object.eTag, kind, `${detailField}.object.eTag`);
  if (eTag !== undefined) event.eTag = eTag;
  return event;
}

function mapRecords(event: EventObject, dialect: Dialect, maxRecords: number): ObjectEvent[] {
  const records = requireArray(event[dialect.list], dialect.kind, dialect.list);
  if (records.length > maxRecords) {
    throw invalidField(
      dialect.kind,
      dialect.list,
      `has ${records.length} records, over the limit of ${maxRecords}`,
    );
  }
  // An empty list is returned as it is: neither platform sends one, but a filter or a test may, and
  // "nothing to do" is the honest answer to it.
  // Array.from, not map: a hole in a sparse array must be read (and rejected), not skipped.
  return Array.from(records, (record, index) => mapRecord(record, `${dialect.list}[${index}]`, dialect));
}

function resolveMaxRecords(options: unknown, where: string): number {
  return resolveLimits(options, OBJECT_EVENT_DEFAULTS, where).maxRecords;
}

/** Maps an FC OSS trigger event (Buffer, string or object). */
export function fromOssEvent(event: EventInput<OssEvent>, options?: ObjectEventOptions): ObjectEvent[] {
  const maxRecords = resolveMaxRecords(options, 'fromOssEvent');
  return mapRecords(decodeEvent(event, OSS.kind), OSS, maxRecords);
}

/** Maps an S3 notification event (the `Records` form Lambda receives directly from S3). */
export function fromS3Event(event: EventInput<S3Event>, options?: ObjectEventOptions): ObjectEvent[] {
  const maxRecords = resolveMaxRecords(options, 'fromS3Event');
  return mapRecords(decodeEvent(event, S3.kind), S3, maxRecords);
}

/** Maps an OSS (`events`) or S3 (`Records`) notification. */
export function fromObjectEvent(
  event: EventInput<OssEvent | S3Event>,
  options?: ObjectEventOptions,
): ObjectEvent[] {
  const maxRecords = resolveMaxRecords(options, 'fromObjectEvent');
  const decoded = decodeEvent(event, 'object event');
  if (Array.isArray(decoded.events)) return mapRecords(decoded, OSS, maxRecords);
  if (Array.isArray(decoded.Records)) return mapRecords(decoded, S3, maxRecords);
  throw invalidField(
    'object event',
    'events',
    'is missing: expected an OSS event (an "events" array) or an S3 event (a "Records" array)',
  );
}
