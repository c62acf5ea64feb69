import { expect } from 'vitest';
import { type HttpRequest, type ObjectEvent, parseTraceparent, type Tick } from '../../lib/triggers/index.js';

/** What every successful mapper result must satisfy; a result that fails one is "partially valid". */

const UPPER_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Z-]{1,32}$/;
const LOWER_TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
const REQUEST_KEYS = new Set([
  'method',
  'path',
  'rawPath',
  'headers',
  'query',
  'body',
  'sourceIp',
  'requestId',
  'traceparent',
  'platform',
]);

function expectDictionary(value: Record<string, string>, names?: RegExp): void {
  expect(Object.getPrototypeOf(value)).toBeNull();
  for (const [name, item] of Object.entries(value)) {
    expect(name).not.toBe('__proto__');
    if (names) expect(name).toMatch(names);
    expect(typeof item).toBe('string');
  }
}

function expectOptionalText(value: unknown): void {
  if (value !== undefined) {
    expect(typeof value).toBe('string');
    expect(value).not.toBe('');
  }
}

export function expectValidRequest(request: HttpRequest, maxBodyBytes = 1024 * 1024): void {
  for (const key of Object.keys(request)) expect(REQUEST_KEYS.has(key)).toBe(true);
  expect(request.method).toMatch(UPPER_TOKEN);
  expect(request.path.startsWith('/')).toBe(true);
  if (request.rawPath !== undefined) expect(request.rawPath.startsWith('/')).toBe(true);
  expectDictionary(request.headers, LOWER_TOKEN);
  expectDictionary(request.query);
  expect(Buffer.isBuffer(request.body)).toBe(true);
  expect(request.body.length).toBeLessThanOrEqual(maxBodyBytes);
  expectOptionalText(request.sourceIp);
  expectOptionalText(request.requestId);
  if (request.traceparent !== undefined) {
    expect(parseTraceparent(request.traceparent)).toBe(request.traceparent);
    expect(request.headers.traceparent).toBe(request.traceparent);
  }
  expect(['fc3', 'fc2', 'apigw-v1', 'apigw-v2']).toContain(request.platform);
}

function expectIsoTime(value: string): void {
  expect(new Date(value).toISOString()).toBe(value);
}

export function expectValidObjectEvents(events: ObjectEvent[], maxRecords = 1000): void {
  expect(Array.isArray(events)).toBe(true);
  expect(events.length).toBeLessThanOrEqual(maxRecords);
  for (const event of events) {
    expect(Object.keys(event).sort()).toEqual(
      [
        'source',
        'bucket',
        'key',
        'size',
        'eventType',
        'time',
        'region',
        ...(event.eTag === undefined ? [] : ['eTag']),
      ].sort(),
    );
    expect(['oss', 's3']).toContain(event.source);
    for (const text of [event.bucket, event.key, event.eventType, event.region]) {
      expect(typeof text).toBe('string');
      expect(text).not.toBe('');
    }
    expect(Number.isSafeInteger(event.size) && event.size >= 0).toBe(true);
    if (event.eTag !== undefined) expect(typeof event.eTag).toBe('string');
    expectIsoTime(event.time);
  }
}

export function expectValidTick(tick: Tick): void {
  expect(Object.keys(tick).sort()).toEqual(['name', 'payload', 'source', 'time']);
  expect(['fc-timer', 'eventbridge']).toContain(tick.source);
  expect(typeof tick.name).toBe('string');
  expect(tick.name).not.toBe('');
  if (tick.source === 'eventbridge') expect(tick.name).not.toContain('/');
  expectIsoTime(tick.time);
}

/** No object anywhere inside a parsed JSON value has an own `__proto__` key. */
export function expectNoProtoKeys(value: unknown): void {
  if (typeof value !== 'object' || value === null) return;
  expect(Object.hasOwn(value, '__proto__')).toBe(false);
  for (const item of Object.values(value)) expectNoProtoKeys(item);
}
