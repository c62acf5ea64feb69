import {
  describeValue,
  type EventObject,
  emptyDictionary,
  invalidField,
  optionalObject,
  requireString,
} from './fields.js';

/**
 * Reading the parts of an HTTP event that every platform has in some form: the method, the path, and
 * header and query dictionaries (single- and multi-value), each checked, with a field path in the error
 * that names the offending key.
 */

// RFC 9110 token: the characters allowed in method and header names.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const MAX_METHOD_LENGTH = 32;

/** The method, upper case: an RFC 9110 token of at most 32 characters. */
export function readMethod(value: unknown, kind: string, field: string): string {
  const method = requireString(value, kind, field);
  if (method.length > MAX_METHOD_LENGTH || !TOKEN.test(method)) {
    throw invalidField(kind, field, 'is not an HTTP method name');
  }
  return method.toUpperCase();
}

/** A path as sent: it must start with `/`. */
export function readPath(value: unknown, kind: string, field: string): string {
  const path = requireString(value, kind, field);
  if (!path.startsWith('/')) throw invalidField(kind, field, 'must start with "/"');
  return path;
}

/** A percent-encoded path decoded; malformed encoding is the event's error, not a crash. */
export function decodePath(raw: string, kind: string, field: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw invalidField(kind, field, 'is not valid percent-encoding');
  }
}

/** A header or query value as a list: absent, one string, or an array of strings. */
export function valuesOf(value: unknown, kind: string, field: string): readonly string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) {
    // Array.from turns holes of a sparse array into undefined, which `every` would skip.
    const items = Array.from(value as unknown[]);
    if (items.every((item) => typeof item === 'string')) return items as string[];
  }
  throw invalidField(kind, field, `must be a string or an array of strings, got ${describeValue(value)}`);
}

// Field paths name the offending key; a hostile key is cut so messages stay short.
function keyField(field: string, key: string): string {
  return `${field}.${key.length > 64 ? `${key.slice(0, 64)}…` : key}`;
}

/**
 * `__proto__` entries are dropped like in parsed JSON (see parseJson), whether the event came as text or as
 * an object; names already taken from the multi-value map are skipped.
 */
function skipped(name: string, multiValues: EventObject | undefined): boolean {
  return name === '__proto__' || (multiValues !== undefined && Object.hasOwn(multiValues, name));
}

function addHeaders(
  target: Record<string, string>,
  source: EventObject,
  kind: string,
  field: string,
  skip?: EventObject,
): void {
  for (const [name, value] of Object.entries(source)) {
    if (skipped(name, skip)) continue;
    if (!TOKEN.test(name)) throw invalidField(kind, keyField(field, name), 'is not a valid header name');
    const key = name.toLowerCase();
    for (const item of valuesOf(value, kind, keyField(field, name))) appendHeader(target, key, item);
  }
}

export function appendHeader(target: Record<string, string>, key: string, value: string): void {
  const previous = target[key];
  // Cookie pairs are separated by "; " (RFC 6265); every other list header by ", " (RFC 9110).
  target[key] = previous === undefined ? value : `${previous}${key === 'cookie' ? '; ' : ', '}${value}`;
}

function addQuery(
  target: Record<string, string>,
  source: EventObject,
  kind: string,
  field: string,
  skip?: EventObject,
): void {
  for (const [name, value] of Object.entries(source)) {
    if (skipped(name, skip)) continue;
    const values = valuesOf(value, kind, keyField(field, name));
    if (values.length > 0) target[name] = values.join(',');
  }
}

/**
 * Header or query values of an event: the multi-value form first (API Gateway REST), then the
 * single-value form for names the multi-value form did not have.
 */
function dictionaryFrom(
  add: typeof addHeaders,
  kind: string,
  single: unknown,
  singleField: string,
  multi?: unknown,
  multiField = '',
): Record<string, string> {
  const target = emptyDictionary();
  const multiValues = optionalObject(multi, kind, multiField);
  if (multiValues !== undefined) add(target, multiValues, kind, multiField);
  const singleValues = optionalObject(single, kind, singleField);
  if (singleValues !== undefined) add(target, singleValues, kind, singleField, multiValues);
  return target;
}

export const headersFrom = (
  kind: string,
  single: unknown,
  singleField: string,
  multi?: unknown,
  multiField?: string,
) => dictionaryFrom(addHeaders, kind, single, singleField, multi, multiField);
export const queryFrom = (
  kind: string,
  single: unknown,
  singleField: string,
  multi?: unknown,
  multiField?: string,
) => dictionaryFrom(addQuery, kind, single, singleField, multi, multiField);
