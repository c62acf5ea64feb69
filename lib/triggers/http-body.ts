import { ErrorCode, EventError } from '../errors.js';
import { describeValue, invalidField } from './fields.js';
import type { HttpRequest } from './http.js';
import { decodeUtf8, parseJson } from './json.js';
import { resolveLimits } from './options.js';

/**
 * Request bodies: size limits, base64, and JSON. Limits are checked on the length of what arrived,
 * before a large body is decoded or copied, so an oversized request costs no extra memory.
 */

export const HTTP_BODY_DEFAULTS = Object.freeze({
  /** @default 1 MiB */
  maxBodyBytes: 1024 * 1024,
});

export interface BodyLimitOptions {
  /** Largest body accepted; a longer one is PAYLOAD_TOO_LARGE (HTTP 413). @default 1 MiB */
  maxBodyBytes?: number;
}

const EMPTY = Buffer.alloc(0);
// Standard alphabet, as FC and API Gateway send it; padding optional but only at the very end.
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function resolveBodyLimit(options: unknown, where: string): number {
  return resolveLimits(options, HTTP_BODY_DEFAULTS, where).maxBodyBytes;
}

function tooLarge(size: number, limit: number): EventError {
  return new EventError(
    ErrorCode.PAYLOAD_TOO_LARGE,
    `request body is ${size} bytes, over the limit of ${limit} bytes`,
    { field: 'body' },
  );
}

function base64Padding(text: string): number {
  if (text.endsWith('==')) return 2;
  return text.endsWith('=') ? 1 : 0;
}

/**
 * The body field of an HTTP event (`body` + `isBase64Encoded`) as bytes. Absent and null mean an empty
 * body (GET requests).
 */
export function decodeEventBody(
  value: unknown,
  isBase64: boolean,
  maxBodyBytes: number,
  kind: string,
  field: string,
): Buffer {
  if (value === undefined || value === null) return EMPTY;
  if (typeof value !== 'string') {
    throw invalidField(kind, field, `must be a string, got ${describeValue(value)}`);
  }
  if (!isBase64) {
    // byteLength counts without allocating, so an oversized body is never copied.
    const size = Buffer.byteLength(value, 'utf8');
    if (size > maxBodyBytes) throw tooLarge(size, maxBodyBytes);
    return Buffer.from(value, 'utf8');
  }
  const padding = base64Padding(value);
  const size = Math.floor((value.length * 3) / 4) - padding;
  if (size > maxBodyBytes) throw tooLarge(size, maxBodyBytes);
  // Buffer.from skips characters outside the alphabet; without this check a corrupted body would
  // decode to different bytes instead of failing.
  const wellFormed = BASE64.test(value) && (padding === 0 ? value.length % 4 !== 1 : value.length % 4 === 0);
  if (!wellFormed) throw invalidField(kind, field, 'is marked isBase64Encoded but is not valid base64');
  return Buffer.from(value, 'base64');
}

/** An already-read body (FC 2.0 HTTP functions) against the limit, without a copy. */
export function checkBodyBytes(value: unknown, maxBodyBytes: number, kind: string): Buffer {
  if (!(value instanceof Uint8Array)) {
    throw invalidField(kind, 'body', `must be a Buffer, got ${describeValue(value)}`);
  }
  if (value.byteLength > maxBodyBytes) throw tooLarge(value.byteLength, maxBodyBytes);
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

// application/json and structured-syntax JSON types such as application/merge-patch+json.
const JSON_MEDIA_TYPE = /^application\/(?:[a-z0-9!#$&^_.-]+\+)?json$/;

/**
 * The request body parsed as JSON.
 *
 * A missing `content-type` is accepted (curl and many webhooks send none); an explicit non-JSON one is
 * EVENT_INVALID (HTTP 400) rather than 415, so clients see one error shape for every malformed request.
 * The body must be UTF-8; `__proto__` keys are dropped (see {@link parseJson}).
 */
export function readJsonBody(request: HttpRequest, options?: BodyLimitOptions): unknown {
  const limit = resolveBodyLimit(options, 'readJsonBody');
  const kind = 'HTTP request';
  if (request.body.byteLength > limit) throw tooLarge(request.body.byteLength, limit);
  const contentType = request.headers['content-type'];
  if (contentType !== undefined) {
    const mediaType = (contentType.split(';')[0] ?? '').trim().toLowerCase();
    if (!JSON_MEDIA_TYPE.test(mediaType)) {
      throw invalidField(
        kind,
        'headers.content-type',
        `must be application/json, got ${JSON.stringify(mediaType.slice(0, 64))}`,
      );
    }
  }
  const text = decodeUtf8(request.body);
  if (text === undefined) throw invalidField(kind, 'body', 'is not valid UTF-8');
  if (text.trim() === '') throw invalidField(kind, 'body', 'is empty; expected a JSON document');
  try {
    return parseJson(text);
  } catch (error) {
    throw new EventError(
      ErrorCode.EVENT_INVALID,
      `request body is not valid JSON: ${(error as Error).message}`,
      {
        field: 'body',
        cause: error,
      },
    );
  }
}
