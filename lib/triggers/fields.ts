import { ErrorCode, EventError } from '../errors.js';

/**
 * Typed reads of untrusted event objects. Every failed read is an {@link EventError} (EVENT_INVALID)
 * that names the field by its path from the event root (`events[2].oss.object.key`), so a broken
 * event is a 400 with a useful message instead of a TypeError deep inside a handler.
 */

export type EventObject = Record<string, unknown>;

/** A plain JSON-like object: not null, not an array, not bytes. */
export function isEventObject(value: unknown): value is EventObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

/** What a value is, for error messages; never the value itself, which may be large or sensitive. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (ArrayBuffer.isView(value)) return 'bytes';
  if (typeof value === 'string') return value === '' ? 'an empty string' : 'a string';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'undefined') return 'nothing';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return `a ${typeof value}`;
}

export function invalidField(kind: string, field: string, problem: string): EventError {
  return new EventError(ErrorCode.EVENT_INVALID, `${kind}: ${field} ${problem}`, { field });
}

function mismatch(kind: string, field: string, expected: string, value: unknown): EventError {
  return invalidField(kind, field, `must be ${expected}, got ${describeValue(value)}`);
}

/**
 * A null-prototype dictionary: keys such as `__proto__` or `constructor` become ordinary entries, and a
 * lookup of a missing key yields `undefined` instead of an inherited function.
 */
export function emptyDictionary(): Record<string, string> {
  return Object.create(null) as Record<string, string>;
}

export function requireObject(value: unknown, kind: string, field: string): EventObject {
  if (!isEventObject(value)) throw mismatch(kind, field, 'an object', value);
  return value;
}

/** `null` and a missing value both read as absent; platforms send either for "none". */
export function optionalObject(value: unknown, kind: string, field: string): EventObject | undefined {
  return value === undefined || value === null ? undefined : requireObject(value, kind, field);
}

export function requireArray(value: unknown, kind: string, field: string): readonly unknown[] {
  if (!Array.isArray(value)) throw mismatch(kind, field, 'an array', value);
  return value;
}

export function requireString(value: unknown, kind: string, field: string): string {
  if (typeof value !== 'string' || value === '') throw mismatch(kind, field, 'a non-empty string', value);
  return value;
}

/** Absent, null and the empty string all read as `undefined`. */
export function optionalString(value: unknown, kind: string, field: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw mismatch(kind, field, 'a string', value);
  return value;
}

export function optionalBoolean(value: unknown, kind: string, field: string): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw mismatch(kind, field, 'true or false', value);
  return value;
}

export function requireSize(value: unknown, kind: string, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw mismatch(kind, field, 'a whole number of bytes ≥ 0', value);
  }
  return value;
}

// RFC 3339 date-time, the format every platform here uses; Date.parse alone accepts far too much.
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/i;

/** An RFC 3339 timestamp, returned in the canonical `toISOString()` form (UTC, milliseconds). */
export function requireTimestamp(value: unknown, kind: string, field: string): string {
  const text = requireString(value, kind, field);
  const millis = TIMESTAMP.test(text) ? Date.parse(text) : Number.NaN;
  // Date.parse rolls impossible dates over (Feb 30 → Mar 2); a round trip of the date part catches that.
  if (Number.isNaN(millis) || !sameCalendarDay(text, millis)) {
    throw invalidField(kind, field, 'must be an RFC 3339 timestamp such as 2026-11-24T08:00:00Z');
  }
  return new Date(millis).toISOString();
}

function sameCalendarDay(text: string, millis: number): boolean {
  const offset = /([+-])(\d{2}):(\d{2})$/.exec(text);
  const shiftMinutes = offset
    ? (offset[1] === '-' ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3]))
    : 0;
  const local = new Date(millis + shiftMinutes * 60_000).toISOString();
  return local.slice(0, 10) === text.slice(0, 10);
}
