import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../lib/errors.js';
import { type Fc2HttpRequest, fromFc2HttpRequest, fromFcHttpEvent } from '../../lib/triggers/index.js';
import { eventBytes, eventObject, expectError, type JsonObject, withField } from './load-event.js';

const ORDER = '{"orderId":"1001","customerId":"c-42","items":[{"sku":"A1","qty":2}],"total":59.8}';

function fc2Fixture(): { request: Fc2HttpRequest; body: Buffer } {
  const { body, ...request } = eventObject('fc/fc2-http-order-request.json');
  return { request: request as unknown as Fc2HttpRequest, body: Buffer.from(body as string) };
}

describe('fromFcHttpEvent', () => {
  it('maps the FC 3.0 order event from a Buffer', () => {
    // Prepare
    const event = eventBytes('fc/http-order.json');

    // Act
    const request = fromFcHttpEvent(event);

    // Assess
    expect(request).toMatchObject({
      method: 'POST',
      path: '/orders',
      rawPath: '/orders',
      sourceIp: '203.0.113.10',
      requestId: '1-6760a1b2-0f1e2d3c4b5a69788796a5b4',
      traceparent: '00-b5f5ab26bdc0c601fe0e67db697ab0fa-0daae837cc946543-01',
      platform: 'fc3',
    });
    expect(request.body.toString('utf8')).toBe(ORDER);
    expect({ ...request.headers }).toEqual({
      accept: 'application/json',
      'content-length': '82',
      'content-type': 'application/json',
      traceparent: '00-b5f5ab26bdc0c601fe0e67db697ab0fa-0daae837cc946543-01',
      'user-agent': 'curl/8.5.0',
      'x-forwarded-proto': 'https',
    });
    expect({ ...request.query }).toEqual({ dryRun: 'false' });
  });

  it('maps the same event from a string and from an object', () => {
    // Prepare
    const fromBuffer = fromFcHttpEvent(eventBytes('fc/http-order.json'));

    // Act
    const fromString = fromFcHttpEvent(eventBytes('fc/http-order.json').toString('utf8'));
    const fromObject = fromFcHttpEvent(eventObject('fc/http-order.json') as never);

    // Assess
    expect(fromString).toEqual(fromBuffer);
    expect(fromObject).toEqual(fromBuffer);
  });

  it('decodes a base64 body', () => {
    // Act
    const request = fromFcHttpEvent(eventBytes('fc/http-order-base64.json'));

    // Assess
    expect(request.body.toString('utf8')).toBe(ORDER);
    expect(request.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(request.traceparent).toBeUndefined();
  });

  it('decodes rawPath when requestContext.http.path is missing, and keeps both otherwise', () => {
    // Prepare
    const base = eventObject('fc/http-order.json');
    const encoded = withField(base, ['rawPath'], '/orders/a%20b%2Fc');

    // Act
    const decodedHere = fromFcHttpEvent(
      withField(encoded, ['requestContext', 'http', 'path'], undefined) as never,
    );
    const decodedByFc = fromFcHttpEvent(
      withField(encoded, ['requestContext', 'http', 'path'], '/orders/a b/c') as never,
    );

    // Assess
    expect(decodedHere).toMatchObject({ path: '/orders/a b/c', rawPath: '/orders/a%20b%2Fc' });
    expect(decodedByFc).toMatchObject({ path: '/orders/a b/c', rawPath: '/orders/a%20b%2Fc' });
  });

  it('treats a missing body as empty and omits absent optional fields', () => {
    // Prepare
    let event = withField(eventObject('fc/http-order.json'), ['body'], undefined);
    event = withField(event, ['requestContext', 'requestId'], undefined);
    event = withField(event, ['requestContext', 'http', 'sourceIp'], undefined);
    event = withField(event, ['headers'], undefined);

    // Act
    const request = fromFcHttpEvent(event as never);

    // Assess
    expect(request.body.length).toBe(0);
    expect(Object.keys(request)).not.toContain('requestId');
    expect(Object.keys(request)).not.toContain('sourceIp');
    expect(Object.keys(request)).not.toContain('traceparent');
  });

  it.each([
    [['requestContext'], undefined, 'requestContext', /requestContext must be an object, got nothing/],
    [['requestContext', 'http'], 'GET', 'requestContext.http', /must be an object, got a string/],
    [['requestContext', 'http', 'method'], '', 'requestContext.http.method', /must be a non-empty string/],
    [['requestContext', 'http', 'method'], 'GE T', 'requestContext.http.method', /not an HTTP method name/],
    [['rawPath'], 'orders', 'rawPath', /must start with "\/"/],
    [['rawPath'], 42, 'rawPath', /must be a non-empty string, got 42/],
    [['headers'], ['a'], 'headers', /must be an object, got an array/],
    [['headers', 'Content-Type'], 7, 'headers.Content-Type', /a string or an array of strings/],
    [['headers', 'bad name'], 'x', 'headers.bad name', /not a valid header name/],
    [['queryParameters', 'dryRun'], { no: 1 }, 'queryParameters.dryRun', /a string or an array of strings/],
    [['body'], { orderId: 1 }, 'body', /must be a string, got an object/],
    [['isBase64Encoded'], 'yes', 'isBase64Encoded', /must be true or false/],
    [['version'], 'v2', 'version', /must be "v1"/],
  ])('rejects %j = %j naming %s', (path, value, field, message) => {
    // Prepare
    const event = withField(eventObject('fc/http-order.json'), path, value);

    // Act & Assess
    expectError(() => fromFcHttpEvent(event as never), { field, message });
  });

  it('rejects a path that is not valid percent-encoding', () => {
    const event = withField(
      withField(eventObject('fc/http-order.json'), ['rawPath'], '/orders/%E0%A4%A'),
      ['requestContext', 'http', 'path'],
      undefined,
    );
    expectError(() => fromFcHttpEvent(event as never), { field: 'rawPath', message: /percent-encoding/ });
  });

  it.each([
    ['a number', 42, /must be a JSON object, got 42/],
    ['null', null, /must be a JSON object, got null/],
    ['an array', [], /must be a JSON object, got an array/],
    ['invalid JSON text', '{"version":', /the event is not valid JSON/],
    ['invalid UTF-8 bytes', Buffer.from([0x7b, 0xff, 0x7d]), /not valid UTF-8/],
    ['a JSON string', '"v1"', /must be a JSON object, got a string/],
  ])('rejects %s as the event', (_name, event, message) => {
    expectError(() => fromFcHttpEvent(event as never), { message });
  });

  it('rejects a body over maxBodyBytes with PAYLOAD_TOO_LARGE', () => {
    expectError(() => fromFcHttpEvent(eventBytes('fc/http-order.json'), { maxBodyBytes: 81 }), {
      code: ErrorCode.PAYLOAD_TOO_LARGE,
      field: 'body',
      message: 'request body is 82 bytes, over the limit of 81 bytes',
    });
    expect(fromFcHttpEvent(eventBytes('fc/http-order.json'), { maxBodyBytes: 82 }).body.length).toBe(82);
  });

  it('checks the size of a base64 body before decoding or validating it', () => {
    // Prepare: far over the limit and not even base64; the size check must come first.
    const event = withField(eventObject('fc/http-order-base64.json'), ['body'], '!'.repeat(2_000_000));

    // Act & Assess
    expectError(() => fromFcHttpEvent(event as never), {
      code: ErrorCode.PAYLOAD_TOO_LARGE,
      message: /1500000 bytes, over the limit of 1048576/,
    });
    expect(fromFcHttpEvent(eventBytes('fc/http-order-base64.json'), { maxBodyBytes: 82 }).body.length).toBe(
      82,
    );
    expectError(() => fromFcHttpEvent(eventBytes('fc/http-order-base64.json'), { maxBodyBytes: 81 }), {
      code: ErrorCode.PAYLOAD_TOO_LARGE,
      message: /82 bytes/,
    });
  });

  it.each(['eyJvcmRlcklkIjoxfQ=x', 'e', 'eyJ=vcmRl', 'ey Jv', 'eyJvcmRlcklkIjoxfQ-_'])(
    'rejects the malformed base64 body %j',
    (body) => {
      const event = withField(eventObject('fc/http-order-base64.json'), ['body'], body);
      expectError(() => fromFcHttpEvent(event as never), { field: 'body', message: /not valid base64/ });
    },
  );

  it('accepts unpadded base64', () => {
    const event = withField(eventObject('fc/http-order-base64.json'), ['body'], 'eyJhIjoxfQ');
    expect(fromFcHttpEvent(event as never).body.toString()).toBe('{"a":1}');
  });

  it.each([
    [{ maxBodyBytes: -1 }, /maxBodyBytes must be a whole number ≥ 0, got -1/],
    [{ maxBodyBytes: 1.5 }, /got 1.5/],
    [{ maxBodySize: 10 }, /unknown option "maxBodySize"; known: maxBodyBytes/],
    ['10', /options must be an object/],
  ])('rejects the options %j with CONFIG_INVALID', (options, message) => {
    expectError(() => fromFcHttpEvent(eventBytes('fc/http-order.json'), options as never), {
      code: ErrorCode.CONFIG_INVALID,
      message,
    });
  });

  it('drops __proto__ headers and query keys, keeps constructor ones as data, and leaves Object.prototype alone', () => {
    // Prepare: JSON text, so __proto__ arrives as an own key as it would from the platform.
    const text = JSON.stringify(eventObject('fc/http-order.json'))
      .replace('"Accept":', '"__proto__":"p","constructor":"c","Accept":')
      .replace('"dryRun":', '"__proto__":"q","toString":"t","dryRun":');

    // Act
    const request = fromFcHttpEvent(text);

    // Assess
    expect(Object.getPrototypeOf(request.headers)).toBeNull();
    expect(request.headers.constructor).toBe('c');
    expect(Object.hasOwn(request.headers, '__proto__')).toBe(false);
    expect(Object.hasOwn(request.query, '__proto__')).toBe(false);
    expect(request.headers.accept).toBe('application/json');
    expect(request.query.toString).toBe('t');
    expect(request.headers.hasOwnProperty).toBeUndefined();
    expect(({} as Record<string, unknown>).p).toBeUndefined();
    expect(Object.keys(Object.prototype)).toEqual([]);
  });

  it('drops __proto__ header keys of an already-parsed event too', () => {
    // Prepare: as Lambda would hand it over, parsed with JSON.parse, so __proto__ is an own key.
    const headers = JSON.parse('{"__proto__":"x","polluted":"no"}') as JsonObject;
    const parsed = { ...eventObject('fc/http-order.json'), headers };
    expect(Object.hasOwn(headers, '__proto__')).toBe(true);

    // Act
    const request = fromFcHttpEvent(parsed as never);

    // Assess
    expect({ ...request.headers }).toEqual({ polluted: 'no' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('fromFc2HttpRequest', () => {
  it('maps the FC 2.0 request object and its body', () => {
    // Prepare
    const { request, body } = fc2Fixture();

    // Act
    const mapped = fromFc2HttpRequest(request, body);

    // Assess
    expect(mapped).toMatchObject({
      method: 'POST',
      path: '/orders',
      rawPath: '/orders',
      sourceIp: '203.0.113.12',
      platform: 'fc2',
    });
    expect(mapped.body).toBe(body);
    expect({ ...mapped.query }).toEqual({ dryRun: 'false', tag: 'new,priority' });
    expect(mapped.headers['content-type']).toBe('application/json');
    expect(Object.keys(mapped)).not.toContain('requestId');
  });

  it('takes rawPath from an absolute url and joins repeated headers', () => {
    // Prepare
    const { request, body } = fc2Fixture();
    const absolute = {
      ...request,
      url: 'https://example.invalid/orders/a%20b?x=1',
      path: '/orders/a b',
      headers: { ...request.headers, 'X-Tag': ['a', 'b'], Cookie: ['s=1', 't=2'] },
    };

    // Act
    const mapped = fromFc2HttpRequest(absolute, body);

    // Assess
    expect(mapped).toMatchObject({ path: '/orders/a b', rawPath: '/orders/a%20b' });
    expect(mapped.headers['x-tag']).toBe('a, b');
    expect(mapped.headers.cookie).toBe('s=1; t=2');
  });

  it('accepts a Uint8Array body and enforces maxBodyBytes without copying', () => {
    const { request } = fc2Fixture();
    const bytes = new Uint8Array(Buffer.from(ORDER));
    expect(fromFc2HttpRequest(request, bytes).body.toString()).toBe(ORDER);
    expectError(() => fromFc2HttpRequest(request, bytes, { maxBodyBytes: 10 }), {
      code: ErrorCode.PAYLOAD_TOO_LARGE,
      message: /82 bytes, over the limit of 10/,
    });
  });

  it.each([
    ['method', undefined, 'method', /must be a non-empty string/],
    ['path', 'orders', 'path', /must start with "\/"/],
    ['headers', 'x', 'headers', /must be an object/],
    ['queries', { tag: [1] }, 'queries.tag', /a string or an array of strings/],
    ['clientIP', 1, 'clientIP', /must be a string/],
  ])('rejects %s = %j', (key, value, field, message) => {
    const { request, body } = fc2Fixture();
    expectError(() => fromFc2HttpRequest({ ...request, [key]: value } as never, body), { field, message });
  });

  it('rejects a body that is not bytes and a request that is not an object', () => {
    const { request } = fc2Fixture();
    expectError(() => fromFc2HttpRequest(request, ORDER as never), {
      field: 'body',
      message: /must be a Buffer/,
    });
    expectError(() => fromFc2HttpRequest(null as never, Buffer.alloc(0)), { field: 'request' });
  });
});
