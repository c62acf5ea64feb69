import { randomUUID } from 'node:crypto';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Context } from 'aws-lambda';
import type { Fc2HttpResponse, FcContext } from '../lib/platforms/fc.js';
import type { FcHttpEvent } from '../lib/triggers/index.js';
import { UsageError } from './cli.js';
import { FUNCTIONS_DIR, readManifests } from './manifest.js';

/** Builds the calls FC and Lambda make, so functions run locally exactly as deployed. */

export type Platform = 'fc' | 'aws';
export { FUNCTIONS_DIR };
/** FC's default function timeout, in seconds. */
export const DEFAULT_TIMEOUT_S = 60;

/** The functions: every folder of functions/ with a function.json, by name. */
export async function listFunctions(): Promise<string[]> {
  return (await readManifests()).map((manifest) => manifest.name);
}

export interface FcModule {
  handler: (...args: unknown[]) => Promise<unknown>;
  initializer?: (context: FcContext) => Promise<void>;
  preStop?: (context: FcContext) => Promise<void>;
}
export interface LambdaModule {
  handler: (event: unknown, context: Context) => Promise<unknown>;
}

export async function loadFunction(name: string, platform: 'fc'): Promise<FcModule>;
export async function loadFunction(name: string, platform: 'aws'): Promise<LambdaModule>;
export async function loadFunction(name: string, platform: Platform): Promise<FcModule | LambdaModule> {
  const known = await listFunctions();
  if (!known.includes(name)) {
    throw new UsageError(`unknown function "${name}"; functions: ${known.join(', ')}`);
  }
  const entry = join(FUNCTIONS_DIR, name, `${platform}.ts`);
  const exists = await access(entry).then(
    () => true,
    () => false,
  );
  if (!exists) {
    const where = platform === 'fc' ? 'Function Compute' : 'AWS Lambda';
    throw new UsageError(`${name} has no ${where} entry (functions/${name}/${platform}.ts)`);
  }
  return import(entry);
}

/** FC's context; credentials only from the environment, as FC would inject the role's STS ones. */
export function fcContext(functionName: string, timeoutSeconds = DEFAULT_TIMEOUT_S, memory = 512): FcContext {
  const { ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET, ALIBABA_CLOUD_SECURITY_TOKEN } =
    process.env;
  return {
    requestId: randomUUID(),
    ...(ALIBABA_CLOUD_ACCESS_KEY_ID &&
      ALIBABA_CLOUD_ACCESS_KEY_SECRET && {
        credentials: {
          accessKeyId: ALIBABA_CLOUD_ACCESS_KEY_ID,
          accessKeySecret: ALIBABA_CLOUD_ACCESS_KEY_SECRET,
          securityToken: ALIBABA_CLOUD_SECURITY_TOKEN,
        },
      }),
    function: {
      name: functionName,
      handler: 'index.handler',
      memory,
      timeout: timeoutSeconds,
      initializer: 'index.initializer',
    },
    service: { name: 'rocketmq-serverless', qualifier: 'LATEST', versionId: '0' },
    region: process.env.ALIBABA_CLOUD_REGION ?? 'cn-hangzhou',
    accountId: '1234567890123456',
  };
}

export function lambdaContext(
  functionName: string,
  timeoutSeconds = DEFAULT_TIMEOUT_S,
  memory = 512,
): Context {
  const deadline = Date.now() + timeoutSeconds * 1000;
  const region = process.env.AWS_REGION ?? 'us-east-1';
  const unsupported = () => {
    throw new Error('callback-style completion is not supported; return a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:123456789012:function:${functionName}`,
    memoryLimitInMB: String(memory),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/${randomUUID()}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}

export function isFcHttpEvent(event: unknown): event is FcHttpEvent {
  return (
    typeof event === 'object' &&
    event !== null &&
    (event as FcHttpEvent).version === 'v1' &&
    'requestContext' in event
  );
}

export interface CapturedResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Turns an FC 3.0 HTTP event into the `(request, response)` pair an FC 2.0 HTTP function receives: the
 * request is a stream carrying the body, the response records what the function wrote.
 */
export function fc2CallFrom(event: FcHttpEvent): {
  request: Readable;
  response: Fc2HttpResponse;
  sent: Promise<CapturedResponse>;
} {
  const body = event.body
    ? Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8')
    : Buffer.alloc(0);
  const query = new URLSearchParams(event.queryParameters ?? {}).toString();
  const request = Object.assign(Readable.from([body]), {
    method: event.requestContext.http.method,
    path: event.requestContext.http.path ?? decodeURIComponent(event.rawPath),
    headers: Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    queries: event.queryParameters ?? {},
    clientIP: event.requestContext.http.sourceIp ?? '127.0.0.1',
    url: `${event.rawPath}${query ? `?${query}` : ''}`,
  });
  const captured: CapturedResponse = { statusCode: 200, headers: {}, body: '' };
  let resolveSent!: (value: CapturedResponse) => void;
  const sent = new Promise<CapturedResponse>((resolve) => {
    resolveSent = resolve;
  });
  const response: Fc2HttpResponse = {
    setStatusCode: (code) => {
      captured.statusCode = code;
    },
    setHeader: (name, value) => {
      captured.headers[name.toLowerCase()] = value;
    },
    send: (payload) => {
      captured.body = Buffer.isBuffer(payload) ? payload.toString('utf8') : payload;
      resolveSent(captured);
    },
  };
  return { request, response, sent };
}

/** Header names as FC 3.0 delivers them: canonicalised like Go's net/http (`content-type` → `Content-Type`). */
function canonicalHeaderName(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_match, dash: string, letter: string) => dash + letter.toUpperCase());
}

const TEXTUAL_CONTENT = /^(text\/|application\/(json|xml|x-www-form-urlencoded|javascript)|[^;]*\+json)/i;

/** The FC 3.0 HTTP trigger event for a real HTTP request, as the dev server hands it to a function. */
export function fcHttpEventFrom(
  request: {
    method?: string;
    url?: string;
    headers: Record<string, string | string[] | undefined>;
    socket: { remoteAddress?: string };
  },
  body: Buffer,
): FcHttpEvent {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined)
      headers[canonicalHeaderName(name)] = Array.isArray(value) ? value.join(',') : value;
  }
  const queryParameters: Record<string, string> = {};
  for (const key of new Set(url.searchParams.keys()))
    queryParameters[key] = url.searchParams.getAll(key).join(',');
  const textual = body.length === 0 || TEXTUAL_CONTENT.test(headers['Content-Type'] ?? 'text/plain');
  const now = new Date();
  return {
    version: 'v1',
    rawPath: url.pathname,
    headers,
    queryParameters,
    body: body.toString(textual ? 'utf8' : 'base64'),
    isBase64Encoded: !textual,
    requestContext: {
      accountId: '1234567890123456',
      domainName: headers.Host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: request.method ?? 'GET',
        path: decodeURIComponent(url.pathname),
        protocol: 'HTTP/1.1',
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['User-Agent'] ?? '',
      },
      requestId: randomUUID(),
      time: now.toISOString(),
      timeEpoch: String(now.getTime()),
    },
  };
}

/** The request object an FC 2.0 HTTP function gets, as events/fc/fc2-http-order-request.json holds it. */
export interface Fc2RequestSample {
  method: string;
  path: string;
  url?: string;
  clientIP?: string;
  headers?: Record<string, string>;
  queries?: Record<string, string | string[]>;
  /** Stands in for the body the function reads from the request stream. */
  body?: string;
  isBase64Encoded?: boolean;
}

export function isFc2RequestSample(event: unknown): event is Fc2RequestSample {
  if (typeof event !== 'object' || event === null) return false;
  const e = event as Record<string, unknown>;
  return (
    typeof e.method === 'string' && typeof e.path === 'string' && !('version' in e) && !('httpMethod' in e)
  );
}

/** The `(request, response)` pair for an FC 2.0 request sample: the body becomes the request stream. */
export function fc2CallFromRequest(sample: Fc2RequestSample): ReturnType<typeof fc2CallFrom> {
  const queries: Record<string, string> = {};
  for (const [name, value] of Object.entries(sample.queries ?? {}))
    queries[name] = Array.isArray(value) ? value.join(',') : value;
  const call = fc2CallFrom({
    version: 'v1',
    rawPath: sample.path,
    headers: sample.headers ?? {},
    queryParameters: queries,
    body: sample.body ?? '',
    isBase64Encoded: sample.isBase64Encoded ?? false,
    requestContext: {
      http: { method: sample.method, path: sample.path, sourceIp: sample.clientIP ?? '127.0.0.1' },
    },
  } as unknown as FcHttpEvent);
  // The sample's own url and queries (repeated keys as lists), as FC 2.0 passes them.
  Object.assign(call.request, {
    url: sample.url ?? sample.path,
    queries: sample.queries ?? {},
    headers: Object.fromEntries(Object.entries(sample.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
  });
  return call;
}

/**
 * Which platform an event sample comes from, for the shapes each platform's triggers deliver; `undefined`
 * when it is none of them (a custom event). FC's RocketMQ events are left out: invoke feeds them to a
 * Lambda poller on purpose.
 */
export function eventPlatform(event: unknown): Platform | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  const e = event as Record<string, unknown>;
  if (isFcHttpEvent(event) || isFc2RequestSample(event)) return 'fc';
  if ('triggerTime' in e && 'triggerName' in e) return 'fc';
  const fcRecords = e.events;
  if (Array.isArray(fcRecords) && (fcRecords[0] as { eventSource?: unknown })?.eventSource === 'acs:oss')
    return 'fc';
  if (e.version === '2.0' && typeof e.routeKey === 'string') return 'aws';
  if (typeof e.httpMethod === 'string' && 'requestContext' in e) return 'aws';
  const records = e.Records;
  if (
    Array.isArray(records) &&
    String((records[0] as { eventSource?: unknown })?.eventSource).startsWith('aws:')
  )
    return 'aws';
  if (e['detail-type'] === 'Scheduled Event' || e.source === 'aws.events' || e.source === 'aws.scheduler')
    return 'aws';
  return undefined;
}

/** The variables each platform's runtime sets for a function (only those the shell has not set). */
export function platformEnvironment(
  platform: Platform,
  fn: { name: string; memory: number; timeout: number },
): Record<string, string> {
  if (platform === 'aws') {
    const region = process.env.AWS_REGION || 'us-east-1';
    return {
      AWS_LAMBDA_FUNCTION_NAME: fn.name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memory),
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
      AWS_LAMBDA_LOG_STREAM_NAME: `local/${randomUUID()}`,
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x',
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      _HANDLER: 'index.handler',
    };
  }
  return {
    FC_FUNCTION_NAME: fn.name,
    FC_FUNCTION_HANDLER: 'index.handler',
    FC_FUNCTION_INITIALIZER: 'index.initializer',
    FC_FUNCTION_MEMORY_SIZE: String(fn.memory),
    FC_FUNCTION_TIMEOUT: String(fn.timeout),
    FC_REGION: process.env.ALIBABA_CLOUD_REGION || 'cn-hangzhou',
    FC_ACCOUNT_ID: '1234567890123456',
    FC_INSTANCE_ID: `local-${randomUUID()}`,
  };
}
