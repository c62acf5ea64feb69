import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import {
  type EventObject,
  invalidField,
  optionalBoolean,
  optionalObject,
  optionalString,
  requireObject,
} from './fields.js';
import { type BodyLimitOptions, checkBodyBytes, decodeEventBody, resolveBodyLimit } from './http-body.js';
import {
  appendHeader,
  decodePath,
  headersFrom,
  queryFrom,
  readMethod,
  readPath,
  valuesOf,
} from './http-fields.js';
import { decodeEvent, type EventInput } from './json.js';
import { parseTraceparent } from './traceparent.js';

/**
 * HTTP trigger events of FC 3.0, FC 2.0 and API Gateway (REST and HTTP API) mapped to one
 * {@link HttpRequest}, so a handler is written once for every platform.
 */

export type HttpPlatform = 'fc3' | 'fc2' | 'apigw-v1' | 'apigw-v2';

export interface HttpRequest {
  /** Upper case, e.g. `POST`. */
  method: string;
  /** Percent-decoded path, e.g. `/orders/a b`. */
  path: string;
  /** The path as it was sent, still percent-encoded, where the platform keeps it (FC, REST API). */
  rawPath?: string;
  /**
   * Lower-case names; repeated headers joined with `, ` (`; ` for `cookie`). A null-prototype object, so a
   * header named `constructor` is data and a missing header reads as `undefined`.
   */
  headers: Record<string, string>;
  /** Query parameters; repeated ones joined with `,` as FC and HTTP APIs do. Null-prototype as well. */
  query: Record<string, string>;
  body: Buffer;
  sourceIp?: string;
  requestId?: string;
  /** The incoming W3C `traceparent` header when it is well-formed. */
  traceparent?: string;
  platform: HttpPlatform;
}

/** The FC 3.0 HTTP trigger event (built-in runtimes), delivered to the handler as a Buffer of JSON. */
export interface FcHttpEvent {
  version: 'v1';
  /** Still percent-encoded. */
  rawPath: string;
  /** Names canonicalised (`Content-Type`); repeated values joined with commas. */
  headers?: Record<string, string>;
  queryParameters?: Record<string, string>;
  body?: string;
  isBase64Encoded?: boolean;
  requestContext: {
    accountId?: string;
    domainName?: string;
    domainPrefix?: string;
    http: { method: string; path?: string; protocol?: string; sourceIp?: string; userAgent?: string };
    requestId?: string;
    time?: string;
    timeEpoch?: string;
  };
}

/** The request object an FC 2.0 HTTP function receives as `(request, response, context)`. */
export interface Fc2HttpRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  queries?: Record<string, string | string[] | undefined>;
  clientIP?: string;
  url?: string;
}

export type HttpRequestOptions = BodyLimitOptions;

interface RequestParts {
  method: string;
  path: string;
  rawPath: string | undefined;
  headers: Record<string, string>;
  query: Record<string, string>;
  body: Buffer;
  sourceIp: string | undefined;
  requestId: string | undefined;
  platform: HttpPlatform;
}

function assemble(parts: RequestParts): HttpRequest {
  const { rawPath, sourceIp, requestId, ...required } = parts;
  const request: HttpRequest = { ...required };
  if (rawPath !== undefined) request.rawPath = rawPath;
  if (sourceIp !== undefined) request.sourceIp = sourceIp;
  if (requestId !== undefined) request.requestId = requestId;
  const traceparent = parseTraceparent(parts.headers.traceparent);
  if (traceparent !== undefined) request.traceparent = traceparent;
  return request;
}

function mapFc3(event: EventObject, maxBodyBytes: number): HttpRequest {
  const kind = 'FC HTTP event';
  if (event.version !== undefined && event.version !== 'v1') {
    throw invalidField(
      kind,
      'version',
      'must be "v1", the only FC 3.0 HTTP payload version this library knows',
    );
  }
  const context = requireObject(event.requestContext, kind, 'requestContext');
  const http = requireObject(context.http, kind, 'requestContext.http');
  const rawPath = readPath(event.rawPath, kind, 'rawPath');
  // requestContext.http.path is the decoded form FC already made; decode rawPath only when it is missing.
  const path =
    http.path === undefined || http.path === null
      ? decodePath(rawPath, kind, 'rawPath')
      : readPath(http.path, kind, 'requestContext.http.path');
  const isBase64 = optionalBoolean(event.isBase64Encoded, kind, 'isBase64Encoded');
  return assemble({
    method: readMethod(http.method, kind, 'requestContext.http.method'),
    path,
    rawPath,
    headers: headersFrom(kind, event.headers, 'headers'),
    query: queryFrom(kind, event.queryParameters, 'queryParameters'),
    body: decodeEventBody(event.body, isBase64, maxBodyBytes, kind, 'body'),
    sourceIp: optionalString(http.sourceIp, kind, 'requestContext.http.sourceIp'),
    requestId: optionalString(context.requestId, kind, 'requestContext.requestId'),
    platform: 'fc3',
  });
}

function mapApiGatewayV1(event: EventObject, maxBodyBytes: number): HttpRequest {
  const kind = 'API Gateway REST event';
  const sentPath = readPath(event.path, kind, 'path');
  // REST APIs pass the path still encoded; HTTP APIs with payload format 1.0 (version "1.0") pass it
  // decoded, and decoding it again would corrupt a literal "%".
  const decodedBySender = event.version === '1.0';
  const context = optionalObject(event.requestContext, kind, 'requestContext');
  const identity = optionalObject(context?.identity, kind, 'requestContext.identity');
  const isBase64 = optionalBoolean(event.isBase64Encoded, kind, 'isBase64Encoded');
  return assemble({
    method: readMethod(event.httpMethod, kind, 'httpMethod'),
    path: decodedBySender ? sentPath : decodePath(sentPath, kind, 'path'),
    rawPath: decodedBySender ? undefined : sentPath,
    // multiValue* hold every value of a repeated name, the single-value maps only the last one.
    headers: headersFrom(kind, event.headers, 'headers', event.multiValueHeaders, 'multiValueHeaders'),
    query: queryFrom(
      kind,
      event.queryStringParameters,
      'queryStringParameters',
      event.multiValueQueryStringParameters,
      'multiValueQueryStringParameters',
    ),
    body: decodeEventBody(event.body, isBase64, maxBodyBytes, kind, 'body'),
    sourceIp: optionalString(identity?.sourceIp, kind, 'requestContext.identity.sourceIp'),
    requestId: optionalString(context?.requestId, kind, 'requestContext.requestId'),
    platform: 'apigw-v1',
  });
}

function mapApiGatewayV2(event: EventObject, maxBodyBytes: number): HttpRequest {
  const kind = 'API Gateway HTTP API event';
  if (event.version !== '2.0') throw invalidField(kind, 'version', 'must be "2.0"');
  const context = requireObject(event.requestContext, kind, 'requestContext');
  const http = requireObject(context.http, kind, 'requestContext.http');
  // HTTP APIs decode the path before the event is built (rawPath included), so nothing is decoded here.
  const rawPath = event.rawPath === undefined ? undefined : readPath(event.rawPath, kind, 'rawPath');
  const path =
    http.path === undefined && rawPath !== undefined
      ? rawPath
      : readPath(http.path, kind, 'requestContext.http.path');
  const headers = headersFrom(kind, event.headers, 'headers');
  // Payload 2.0 moves Cookie headers out into `cookies`; put them back where handlers look for them.
  for (const cookie of valuesOf(event.cookies, kind, 'cookies')) appendHeader(headers, 'cookie', cookie);
  const isBase64 = optionalBoolean(event.isBase64Encoded, kind, 'isBase64Encoded');
  return assemble({
    method: readMethod(http.method, kind, 'requestContext.http.method'),
    path,
    rawPath,
    headers,
    query: queryFrom(kind, event.queryStringParameters, 'queryStringParameters'),
    body: decodeEventBody(event.body, isBase64, maxBodyBytes, kind, 'body'),
    sourceIp: optionalString(http.sourceIp, kind, 'requestContext.http.sourceIp'),
    requestId: optionalString(context.requestId, kind, 'requestContext.requestId'),
    platform: 'apigw-v2',
  });
}

/** Maps an FC 3.0 HTTP trigger event (Buffer, string or object). */
export function fromFcHttpEvent(event: EventInput<FcHttpEvent>, options?: HttpRequestOptions): HttpRequest {
  const maxBodyBytes = resolveBodyLimit(options, 'fromFcHttpEvent');
  return mapFc3(decodeEvent(event, 'FC HTTP event'), maxBodyBytes);
}

/** Maps an API Gateway REST API (payload 1.0) proxy event. */
export function fromApiGatewayV1Event(
  event: EventInput<APIGatewayProxyEvent>,
  options?: HttpRequestOptions,
): HttpRequest {
  const maxBodyBytes = resolveBodyLimit(options, 'fromApiGatewayV1Event');
  return mapApiGatewayV1(decodeEvent(event, 'API Gateway REST event'), maxBodyBytes);
}

/** Maps an API Gateway HTTP API (payload 2.0) event. */
export function fromApiGatewayV2Event(
  event: EventInput<APIGatewayProxyEventV2>,
  options?: HttpRequestOptions,
): HttpRequest {
  const maxBodyBytes = resolveBodyLimit(options, 'fromApiGatewayV2Event');
  return mapApiGatewayV2(decodeEvent(event, 'API Gateway HTTP API event'), maxBodyBytes);
}

// An absolute URL's scheme and authority; FC 2.0 may hand over either form.
const URL_ORIGIN = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i;

/**
 * Maps the request of an FC 2.0 HTTP function plus its body, which the caller has already read from the
 * request stream. `request.path` is taken as decoded (FC's front end is Go's net/http, whose URL.Path is
 * decoded; not verified on a live account); `rawPath` comes from `request.url` when that is present.
 */
export function fromFc2HttpRequest(
  request: Fc2HttpRequest,
  body: Uint8Array,
  options?: HttpRequestOptions,
): HttpRequest {
  const maxBodyBytes = resolveBodyLimit(options, 'fromFc2HttpRequest');
  const kind = 'FC 2.0 HTTP request';
  const source = requireObject(request, kind, 'request');
  const url = optionalString(source.url, kind, 'url');
  const urlPath = url?.replace(URL_ORIGIN, '').split(/[?#]/)[0];
  return assemble({
    method: readMethod(source.method, kind, 'method'),
    path: readPath(source.path, kind, 'path'),
    rawPath: urlPath?.startsWith('/') ? urlPath : undefined,
    headers: headersFrom(kind, source.headers, 'headers'),
    query: queryFrom(kind, source.queries, 'queries'),
    body: checkBodyBytes(body, maxBodyBytes, kind),
    sourceIp: optionalString(source.clientIP, kind, 'clientIP'),
    requestId: undefined,
    platform: 'fc2',
  });
}

/**
 * Maps an HTTP event of FC 3.0 (`version: "v1"`), an API Gateway HTTP API (`version: "2.0"`) or an API
 * Gateway REST API (`httpMethod`). FC 2.0 HTTP functions have a different call signature; use
 * {@link fromFc2HttpRequest} for them.
 */
export function fromHttpEvent(
  event: EventInput<FcHttpEvent | APIGatewayProxyEvent | APIGatewayProxyEventV2>,
  options?: HttpRequestOptions,
): HttpRequest {
  const maxBodyBytes = resolveBodyLimit(options, 'fromHttpEvent');
  const decoded = decodeEvent(event, 'HTTP event');
  if (decoded.version === 'v1') return mapFc3(decoded, maxBodyBytes);
  if (decoded.version === '2.0') return mapApiGatewayV2(decoded, maxBodyBytes);
  if (decoded.httpMethod !== undefined) return mapApiGatewayV1(decoded, maxBodyBytes);
  throw invalidField(
    'HTTP event',
    'version',
    'matches no known HTTP event: expected FC 3.0 (version "v1"), API Gateway HTTP API (version "2.0") or API Gateway REST (httpMethod)',
  );
}
