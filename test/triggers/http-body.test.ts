import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../lib/errors.js';
import {
  fromFcHttpEvent,
  type HttpRequest,
  MethodNotAllowedError,
  readJsonBody,
  requireMethod,
} from '../../lib/triggers/index.js';
import { eventBytes, expectError } from './load-event.js';

function requestWith(
  body: string | Buffer,
  headers: Record<string, string> = {},
  method = 'POST',
): HttpRequest {
  return {
    method,
    path: '/orders',
    headers,
    query: {},
    body: typeof body === 'string' ? Buffer.from(body) : body,
    platform: 'fc3',
  };
}

describe('readJsonBody', () => {
  it('parses the order of the FC fixture', () => {
    // Prepare
    const request = fromFcHttpEvent(eventBytes('fc/http-order.json'));

    // Act
    const order = readJsonBody(request);

    // Assess
    expect(order).toEqual({
      orderId: '1001',
      customerId: 'c-42',
      items: [{ sku: 'A1', qty: 2 }],
      total: 59.8,
    });
  });

  it.each([
    undefined,
    'application/json',
    'Application/JSON; charset=utf-8',
    'application/merge-patch+json',
    'application/cloudevents+json; charset=UTF-8',
  ])('accepts content-type %j', (contentType) => {
    const headers: Record<string, string> = contentType === undefined ? {} : { 'content-type': contentType };
    expect(readJsonBody(requestWith('{"a":1}', headers))).toEqual({ a: 1 });
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'json', ''])(
    'rejects the explicit content-type %j with 400',
    (contentType) => {
      expectError(() => readJsonBody(requestWith('{"a":1}', { 'content-type': contentType })), {
        code: ErrorCode.EVENT_INVALID,
        field: 'headers.content-type',
        message: /must be application\/json, got "/,
      });
    },
  );

  it.each([
    ['{"a":', /^request body is not valid JSON: /],
    ['{a:1}', /^request body is not valid JSON: /],
    ['', /body is empty; expected a JSON document/],
    ['  \n', /body is empty/],
  ])('rejects the body %j', (body, message) => {
    expectError(() => readJsonBody(requestWith(body)), { field: 'body', message });
  });

  it('rejects bytes that are not UTF-8 and accepts a BOM', () => {
    expectError(() => readJsonBody(requestWith(Buffer.from([0x22, 0xc3, 0x28, 0x22]))), {
      field: 'body',
      message: /not valid UTF-8/,
    });
    expect(readJsonBody(requestWith(Buffer.from('\uFEFF{"a":1}')))).toEqual({ a: 1 });
  });

  it('rejects a body over its own maxBodyBytes with 413', () => {
    expectError(() => readJsonBody(requestWith('{"a":1}'), { maxBodyBytes: 6 }), {
      code: ErrorCode.PAYLOAD_TOO_LARGE,
      message: 'request body is 7 bytes, over the limit of 6 bytes',
    });
    expect(readJsonBody(requestWith('{"a":1}'), { maxBodyBytes: 7 })).toEqual({ a: 1 });
  });

  it('drops __proto__ keys, also escaped ones, keeps constructor, and leaves Object.prototype alone', () => {
    // Prepare
    const body =
      '{"__proto__":{"polluted":1},"a":{"\\u005f_proto__":{"polluted":2},"constructor":{"prototype":{"x":1}}}}';

    // Act
    const value = readJsonBody(requestWith(body)) as Record<string, Record<string, unknown>>;

    // Assess
    expect(Object.hasOwn(value, '__proto__')).toBe(false);
    expect(Object.hasOwn(value.a ?? {}, '__proto__')).toBe(false);
    expect(value.a?.constructor).toEqual({ prototype: { x: 1 } });
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.assign({}, value)).not.toHaveProperty('polluted');
  });
});

describe('requireMethod', () => {
  it('passes an allowed method, compared case-insensitively', () => {
    expect(() => requireMethod(requestWith('', {}, 'POST'), ['post', 'PUT'])).not.toThrow();
  });

  it('throws METHOD_NOT_ALLOWED carrying the allowed list', () => {
    // Act
    const error = expectError(() => requireMethod(requestWith('', {}, 'DELETE'), ['post', 'PUT']), {
      code: ErrorCode.METHOD_NOT_ALLOWED,
      field: 'method',
      message: 'method DELETE is not allowed here; allowed: POST, PUT',
    });

    // Assess
    expect(error).toBeInstanceOf(MethodNotAllowedError);
    expect((error as MethodNotAllowedError).allowed).toEqual(['POST', 'PUT']);
    expect(error.retryable).toBe(false);
  });
});
