import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  ErrorCode,
  EventError,
  MessageValidationError,
  RocketMQError,
} from '../../lib/errors.js';
import {
  errorResponse,
  jsonResponse,
  MethodNotAllowedError,
  toApiGatewayV1Response,
  toApiGatewayV2Response,
  toFcHttpResponse,
} from '../../lib/triggers/index.js';

function bodyOf(response: { body: string | Buffer }): unknown {
  return JSON.parse(response.body.toString());
}

describe('jsonResponse', () => {
  it('serialises the value with a JSON content type and lower-cased extra headers', () => {
    // Act
    const response = jsonResponse(201, { messageId: 'A1' }, { 'X-Request-Id': 'r-1' });

    // Assess
    expect(response).toEqual({
      statusCode: 201,
      headers: { 'content-type': 'application/json', 'x-request-id': 'r-1' },
      body: '{"messageId":"A1"}',
    });
  });

  it('lets headers override the content type and turns undefined into null', () => {
    const response = jsonResponse(200, undefined, { 'Content-Type': 'application/problem+json' });
    expect(response.headers).toEqual({ 'content-type': 'application/problem+json' });
    expect(response.body).toBe('null');
  });
});

describe('errorResponse', () => {
  it.each([
    [
      new EventError(ErrorCode.EVENT_INVALID, 'FC HTTP event: rawPath must start with "/"', {
        field: 'rawPath',
      }),
      400,
    ],
    [
      new MessageValidationError(ErrorCode.MESSAGE_INVALID, 'tag must not contain "||"', { field: 'tag' }),
      400,
    ],
    [
      new MessageValidationError(ErrorCode.MESSAGE_TOO_LARGE, 'body is 5 MiB, over 4 MiB', { field: 'body' }),
      413,
    ],
    [new EventError(ErrorCode.PAYLOAD_TOO_LARGE, 'request body is 9 bytes, over the limit of 8 bytes'), 413],
  ])('returns %s as %i with its message and field', (error, status) => {
    // Act
    const response = errorResponse(error);

    // Assess
    expect(response.statusCode).toBe(status);
    expect(response.headers['content-type']).toBe('application/json');
    const expected: Record<string, unknown> = { code: error.code, message: error.message };
    if (error.field !== undefined) expected.field = error.field;
    expect(bodyOf(response)).toEqual({ error: expected });
  });

  it('returns 405 with an Allow header for METHOD_NOT_ALLOWED', () => {
    const response = errorResponse(new MethodNotAllowedError('GET', ['POST', 'PUT']));
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe('POST, PUT');
    expect(bodyOf(response)).toMatchObject({ error: { code: 'METHOD_NOT_ALLOWED' } });
  });

  it.each([
    ErrorCode.UNAVAILABLE,
    ErrorCode.TIMEOUT,
    ErrorCode.TOO_MANY_REQUESTS,
    ErrorCode.BROKER_INTERNAL,
    ErrorCode.BROKER_TIMEOUT,
    ErrorCode.IN_FLIGHT_FULL,
    ErrorCode.PRODUCER_CLOSED,
  ])('returns %s as 503 with Retry-After and a generic message', (code) => {
    // Prepare
    const error = new RocketMQError(code, 'connect ECONNREFUSED 10.0.0.7:8081 (secret=abc)', {
      topic: 'orders',
    });

    // Act
    const response = errorResponse(error);

    // Assess
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('1');
    expect(bodyOf(response)).toEqual({
      error: { code, message: 'The service is temporarily unavailable; retry later.' },
    });
    expect(String(response.body)).not.toMatch(/10\.0\.0\.7|secret|orders/);
  });

  it.each([ErrorCode.TIMEOUT, ErrorCode.UNAVAILABLE, ErrorCode.BROKER_TIMEOUT])(
    'returns %s that may have stored the message as 504, saying so, with no Retry-After',
    (code) => {
      // Prepare
      const error = new RocketMQError(
        code,
        'connection lost to 10.0.0.7:8081 after the request was written',
        {
          topic: 'orders',
          mayBeStored: true,
        },
      );

      // Act
      const response = errorResponse(error);

      // Assess
      expect(response.statusCode).toBe(504);
      expect(response.headers['retry-after']).toBeUndefined();
      expect(bodyOf(response)).toEqual({
        error: {
          code,
          mayBeStored: true,
          message:
            'The outcome is unknown: the request may have been accepted. Retry with the same identifiers; duplicates are recognised by them.',
        },
      });
      expect(String(response.body)).not.toMatch(/10\.0\.0\.7|orders/);
    },
  );

  it.each([
    new RocketMQError(ErrorCode.TOPIC_NOT_FOUND, 'topic orders-prod not found on 10.0.0.7'),
    new RocketMQError(ErrorCode.UNAUTHORIZED, 'AccessKey LTAI-fake-key rejected'),
    new RocketMQError(ErrorCode.FORBIDDEN, 'no permission'),
    new ConfigError('ROCKETMQ_ENDPOINTS is missing'),
    new RocketMQError(ErrorCode.SPOOL_FAILED, 'EACCES /tmp/spool'),
  ])('returns %s as 500 with only its code', (error) => {
    const response = errorResponse(error);
    expect(response.statusCode).toBe(500);
    expect(bodyOf(response)).toEqual({
      error: { code: error.code, message: 'The request could not be processed.' },
    });
    expect(response.headers['retry-after']).toBeUndefined();
  });

  it.each([
    new TypeError('x is undefined'),
    'a string',
    undefined,
    { code: 'EVENT_INVALID', message: 'forged' },
  ])('returns the foreign error %j as 500 UNKNOWN', (error) => {
    const response = errorResponse(error);
    expect(response.statusCode).toBe(500);
    expect(bodyOf(response)).toEqual({
      error: { code: 'UNKNOWN', message: 'The request could not be processed.' },
    });
  });
});

describe('platform responses', () => {
  it.each([
    ['toFcHttpResponse', toFcHttpResponse],
    ['toApiGatewayV1Response', toApiGatewayV1Response],
    ['toApiGatewayV2Response', toApiGatewayV2Response],
  ])('%s passes a string body through and base64-encodes a Buffer', (_name, convert) => {
    // Prepare
    const text = jsonResponse(200, { ok: true });
    const bytes = {
      statusCode: 200,
      headers: { 'content-type': 'image/png' },
      body: Buffer.from([0, 1, 254, 255]),
    };

    // Act
    const fromText = convert(text);
    const fromBytes = convert(bytes);

    // Assess
    expect(fromText).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      body: '{"ok":true}',
      isBase64Encoded: false,
    });
    expect(fromBytes).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'image/png' },
      body: 'AAH+/w==',
      isBase64Encoded: true,
    });
    expect(fromText.headers).not.toBe(text.headers);
  });
});
