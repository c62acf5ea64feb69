import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../lib/errors.js';
import {
  fromApiGatewayV1Event,
  fromApiGatewayV2Event,
  fromHttpEvent,
  parseTraceparent,
} from '../../lib/triggers/index.js';
import { eventBytes, eventObject, expectError, type JsonObject, withField } from './load-event.js';

const ORDER = '{"orderId":"1001","customerId":"c-42","items":[{"sku":"A1","qty":2}],"total":59.8}';

describe('fromApiGatewayV1Event', () => {
  it('maps the REST API order event', () => {
    // Act
    const request = fromApiGatewayV1Event(eventObject('aws/apigw-v1-order.json') as never);

    // Assess
    expect(request).toMatchObject({
      method: 'POST',
      path: '/orders',
      rawPath: '/orders',
      sourceIp: '198.51.100.20',
      requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
      platform: 'apigw-v1',
    });
    expect(request.body.toString()).toBe(ORDER);
    expect(request.headers.host).toBe('abcdef1234.execute-api.us-east-1.amazonaws.com');
    expect({ ...request.query }).toEqual({ dryRun: 'false' });
  });

  it('prefers multi-value maps, falls back to single-value ones, and allows nulls', () => {
    // Prepare
    let event = eventObject('aws/apigw-v1-order.json');
    event = withField(event, ['multiValueHeaders', 'Accept'], ['application/json', 'text/plain']);
    event = withField(event, ['headers', 'X-Only-Single'], 'yes');
    event = withField(event, ['multiValueQueryStringParameters'], { tag: ['a', 'b'] });
    event = withField(event, ['queryStringParameters'], { tag: 'b', page: '2' });

    // Act
    const request = fromApiGatewayV1Event(event as never);
    const bare = fromApiGatewayV1Event({
      httpMethod: 'get',
      path: '/health',
      headers: null,
      multiValueHeaders: null,
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      body: null,
      isBase64Encoded: false,
    } as never);

    // Assess
    expect(request.headers.accept).toBe('application/json, text/plain');
    expect(request.headers['x-only-single']).toBe('yes');
    expect({ ...request.query }).toEqual({ tag: 'a,b', page: '2' });
    expect(bare).toMatchObject({ method: 'GET', path: '/health', platform: 'apigw-v1' });
    expect(Object.keys(bare.headers)).toEqual([]);
  });

  it('decodes REST paths but not the already-decoded paths of HTTP API payload 1.0', () => {
    // Prepare
    const rest = withField(eventObject('aws/apigw-v1-order.json'), ['path'], '/orders/100%25%20off');
    const httpApi = withField(withField(rest, ['path'], '/orders/100% off'), ['version'], '1.0');

    // Act & Assess
    expect(fromApiGatewayV1Event(rest as never)).toMatchObject({
      path: '/orders/100% off',
      rawPath: '/orders/100%25%20off',
    });
    const mapped = fromApiGatewayV1Event(httpApi as never);
    expect(mapped.path).toBe('/orders/100% off');
    expect(Object.keys(mapped)).not.toContain('rawPath');
  });

  it.each([
    [['httpMethod'], undefined, 'httpMethod'],
    [['path'], '', 'path'],
    [['multiValueHeaders', 'Accept'], [1], 'multiValueHeaders.Accept'],
    [['requestContext', 'identity'], 'x', 'requestContext.identity'],
    [['requestContext', 'requestId'], 5, 'requestContext.requestId'],
  ])('rejects %j = %j', (path, value, field) => {
    const event = withField(eventObject('aws/apigw-v1-order.json'), path, value);
    expectError(() => fromApiGatewayV1Event(event as never), { field, message: /^API Gateway REST event: / });
  });
});

describe('fromApiGatewayV2Event', () => {
  it('maps the HTTP API order event and restores cookies as a cookie header', () => {
    // Act
    const request = fromApiGatewayV2Event(eventObject('aws/apigw-v2-order.json') as never);

    // Assess
    expect(request).toMatchObject({
      method: 'POST',
      path: '/orders',
      rawPath: '/orders',
      sourceIp: '198.51.100.21',
      requestId: 'JKJaXmPLvHcESHA=',
      traceparent: '00-7059eeca27131688aea8bdf2d5d915c1-0daae837cc946543-00',
      platform: 'apigw-v2',
    });
    expect(request.headers.cookie).toBe('session=abc123; theme=dark');
    expect(request.body.toString()).toBe(ORDER);
    expect({ ...request.query }).toEqual({ dryRun: 'false' });
  });

  it.each([
    [['version'], '1.0', 'version', /must be "2.0"/],
    [['requestContext', 'http'], undefined, 'requestContext.http', /must be an object/],
    [['cookies'], [1], 'cookies', /must be a string or an array of strings/],
    [['requestContext', 'http', 'path'], 7, 'requestContext.http.path', /non-empty string/],
  ])('rejects %j = %j', (path, value, field, message) => {
    const event = withField(eventObject('aws/apigw-v2-order.json'), path, value);
    expectError(() => fromApiGatewayV2Event(event as never), { field, message });
  });
});

describe('fromHttpEvent', () => {
  it.each([
    ['fc/http-order.json', 'fc3'],
    ['fc/http-order-base64.json', 'fc3'],
    ['aws/apigw-v1-order.json', 'apigw-v1'],
    ['aws/apigw-v2-order.json', 'apigw-v2'],
  ])('detects %s as %s', (name, platform) => {
    // Act
    const request = fromHttpEvent(eventBytes(name));

    // Assess
    expect(request.platform).toBe(platform);
    expect(request.body.toString()).toBe(ORDER);
  });

  it('names what it expected when the event is no HTTP event', () => {
    expectError(() => fromHttpEvent(eventBytes('fc/timer.json')), {
      field: 'version',
      message: /expected FC 3.0 \(version "v1"\), API Gateway HTTP API \(version "2.0"\) or API Gateway REST/,
    });
  });

  it('passes maxBodyBytes on', () => {
    expectError(() => fromHttpEvent(eventBytes('aws/apigw-v2-order.json'), { maxBodyBytes: 1 }), {
      code: ErrorCode.PAYLOAD_TOO_LARGE,
    });
  });
});

describe('parseTraceparent', () => {
  it.each([
    ['00-b5f5ab26bdc0c601fe0e67db697ab0fa-0daae837cc946543-01', true],
    ['00-b5f5ab26bdc0c601fe0e67db697ab0fa-0daae837cc946543-00', true],
    ['00-00000000000000000000000000000000-0daae837cc946543-01', false],
    ['00-b5f5ab26bdc0c601fe0e67db697ab0fa-0000000000000000-01', false],
    ['00-B5F5AB26BDC0C601FE0E67DB697AB0FA-0daae837cc946543-01', false],
    ['01-b5f5ab26bdc0c601fe0e67db697ab0fa-0daae837cc946543-01', false],
    ['00-b5f5ab26bdc0c601fe0e67db697ab0f-0daae837cc946543-01', false],
    ['00-b5f5ab26bdc0c601fe0e67db697ab0fa-0daae837cc946543-01, 00-x', false],
    [' 00-b5f5ab26bdc0c601fe0e67db697ab0fa-0daae837cc946543-01', false],
    ['', false],
  ])('%j is valid: %s', (value, valid) => {
    expect(parseTraceparent(value)).toBe(valid ? value : undefined);
  });

  it('drops a malformed traceparent header from the request', () => {
    const event = withField(
      eventObject('aws/apigw-v2-order.json'),
      ['headers', 'traceparent'],
      '00-zz-zz-01',
    );
    const request = fromApiGatewayV2Event(event as JsonObject as never);
    expect(request.traceparent).toBeUndefined();
    expect(request.headers.traceparent).toBe('00-zz-zz-01');
  });
});
