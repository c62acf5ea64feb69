import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { type Credentials, resolveCredentials } from '../config.js';
import { ErrorCode, EventError } from '../errors.js';
import { getLogger } from '../log.js';
import { settledBy } from '../producer/deadline.js';
import type { Producer, ProducerOptions } from '../producer/producer.js';
import { getProducer, hasOpenSharedProducer } from '../producer/shared.js';
import {
  type Fc2HttpRequest,
  fromFc2HttpRequest,
  fromFcHttpEvent,
  HTTP_BODY_DEFAULTS,
  toFcHttpResponse,
} from '../triggers/index.js';
import {
  type HttpCore,
  serveHttp,
  serveInvocation,
  sharedProducer,
  startInvocation,
  stopEverything,
} from './core.js';
import type { Invocation } from './invocation.js';

/** The context Function Compute passes to handlers, initializers and preStop hooks (the fields we use). */
export interface FcContext {
  requestId: string;
  credentials?: { accessKeyId?: string; accessKeySecret?: string; securityToken?: string };
  function: { name: string; handler?: string; memory?: number; timeout: number; initializer?: string };
  service?: { name?: string; logProject?: string; logStore?: string; qualifier?: string; versionId?: string };
  region?: string;
  accountId?: string;
}

/** The response object of an FC 2.0 HTTP function. */
export interface Fc2HttpResponse {
  setStatusCode(code: number): void;
  setHeader(name: string, value: string): void;
  send(body: Buffer | string): void;
}

export interface FcHandlerOptions {
  /** Options of the shared producer, used when it is first created in this instance. */
  producer?: ProducerOptions;
  /** Largest HTTP request body accepted. @default 1 MiB */
  maxBodyBytes?: number;
}

/** FC hands out STS credentials of the function's role; they count only when env and options give none. */
function contextCredentials(context: FcContext): Credentials | undefined {
  const { accessKeyId, accessKeySecret, securityToken } = context.credentials ?? {};
  if (!accessKeyId || !accessKeySecret) return undefined;
  return securityToken ? { accessKeyId, accessKeySecret, securityToken } : { accessKeyId, accessKeySecret };
}

/** The shared producer for this instance, on the context's credentials when nothing else provides any. */
function producerFor(context: FcContext, options: FcHandlerOptions | undefined): Producer {
  // The one precedence of credentials (options, then the environment); the context's come after both.
  const configured = resolveCredentials(options?.producer?.credentials, process.env);
  const fromContext = configured ? undefined : contextCredentials(context);
  const producer = sharedProducer(
    fromContext ? { ...options?.producer, credentials: fromContext } : options?.producer,
  );
  // STS credentials rotate; a warm instance gets the new ones through the context.
  if (fromContext) producer.updateCredentials(fromContext);
  return producer;
}

function begin(context: FcContext, options: FcHandlerOptions | undefined): Invocation {
  if (!context || typeof context !== 'object' || !context.function) {
    throw new EventError(ErrorCode.EVENT_INVALID, 'the FC context is missing or has no `function` field');
  }
  const requestId = context.requestId || randomUUID();
  const functionName = context.function.name;
  return startInvocation({
    platform: 'fc',
    requestId,
    functionName,
    remainingMs: Math.max(1, Number(context.function.timeout) || 3) * 1000,
    producer: producerFor(context, options),
    logKeys: { requestId, functionName },
  });
}

/**
 * Wraps an event handler (OSS, timer and every other non-HTTP trigger) for Function Compute. The event
 * arrives as a Buffer of JSON; the trigger mappers accept it as it is. Work started in the invocation is
 * drained before the handler returns.
 */
export function fcEventHandler<R>(
  handler: (event: unknown, invocation: Invocation) => Promise<R>,
  options?: FcHandlerOptions,
): (event: unknown, context: FcContext) => Promise<R> {
  return (event, context) =>
    serveInvocation(
      () => begin(context, options),
      (invocation) => handler(event, invocation),
    );
}

/** Reads an FC 2.0 request body without buffering more than `maxBytes + 1` bytes of it. */
async function readBody(request: Fc2HttpRequest & { body?: unknown }, maxBytes: number): Promise<Buffer> {
  if (Buffer.isBuffer(request.body)) return request.body;
  if (typeof request.body === 'string') return Buffer.from(request.body);
  const stream = request as unknown as Readable;
  if (typeof stream[Symbol.asyncIterator] !== 'function') return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    size += bytes.length;
    chunks.push(bytes);
    if (size > maxBytes) {
      stream.destroy();
      break;
    }
  }
  return Buffer.concat(chunks);
}

function isFc2Response(value: unknown): value is Fc2HttpResponse {
  return typeof value === 'object' && value !== null && typeof (value as Fc2HttpResponse).send === 'function';
}

export type FcHttpHandler = (
  eventOrRequest: unknown,
  contextOrResponse: unknown,
  context?: FcContext,
) => Promise<ReturnType<typeof toFcHttpResponse> | undefined>;

/**
 * Wraps an HTTP handler for both Function Compute shapes, detected per call:
 * - FC 3.0 (and Serverless Devs `fc3`): `(event, context)` with the JSON HTTP event; returns
 *   `{ statusCode, headers, body, isBase64Encoded }`.
 * - FC 2.0 HTTP functions (created through the 2016-08-15 API, as `@alicloud/fc2` does):
 *   `(request, response, context)`; the body is read from the request stream and the answer written
 *   with `response.setStatusCode / setHeader / send`.
 * Bad requests become 400/405/413 JSON answers; retryable broker failures 503 with `Retry-After`.
 */
export function fcHttpHandler(core: HttpCore, options?: FcHandlerOptions): FcHttpHandler {
  const maxBodyBytes = options?.maxBodyBytes ?? HTTP_BODY_DEFAULTS.maxBodyBytes;
  // Each request is an invocation of its own: with instance concurrency, its drain covers its sends only.
  return async (first, second, third) => {
    if (isFc2Response(second)) {
      const request = first as Fc2HttpRequest;
      const read = async () =>
        fromFc2HttpRequest(request, await readBody(request, maxBodyBytes), { maxBodyBytes });
      const response = await serveInvocation(
        () => begin(third as FcContext, options),
        (invocation) => serveHttp(core, read, invocation),
      );
      second.setStatusCode(response.statusCode);
      for (const [name, value] of Object.entries(response.headers)) second.setHeader(name, value);
      second.send(response.body);
      return undefined;
    }
    const read = () => fromFcHttpEvent(first as never, { maxBodyBytes });
    return toFcHttpResponse(
      await serveInvocation(
        () => begin(second as FcContext, options),
        (invocation) => serveHttp(core, read, invocation),
      ),
    );
  };
}

/**
 * The FC `initializer` hook: creates and starts the shared producer once per instance, before the
 * first request, so configuration errors surface at instance start rather than in a request; with
 * `warmTopics`, also opens the connection and looks up their routes (an unreachable broker is logged,
 * not fatal: the first send tries again).
 */
export function fcInitializer(
  options?: FcHandlerOptions & { warmTopics?: readonly string[] },
): (context: FcContext) => Promise<void> {
  return async (context) => {
    await producerFor(context, options).warmUp(options?.warmTopics ?? []);
  };
}

/**
 * The FC `preStop` hook: before the instance is destroyed, resends what its spool holds, then drains and
 * shuts the shared producer down, and the shared consumers with it — always, and within `timeoutMs`,
 * even when the redelivery fails (a full disk, a broken spool directory): that failure is logged once,
 * with its code. Resends stop at half the time; the hook waits for the redelivery until three quarters,
 * since after its last resend a spool still writes back what it did not deliver and removes the old
 * copy, and an instance ending in between would keep both.
 */
export function fcPreStop(options?: { timeoutMs?: number }): (context: FcContext) => Promise<void> {
  return async () => {
    const timeoutMs = options?.timeoutMs ?? 2000;
    const started = Date.now();
    const deadline = started + timeoutMs;
    // Last chance to deliver what a file spool in this instance's /tmp holds; an object spool outlives
    // the instance, and what is delivered now is not delivered late.
    if (hasOpenSharedProducer()) {
      const producer = getProducer();
      if (producer.spool)
        await redeliverBefore(producer, started + timeoutMs / 2, started + (timeoutMs * 3) / 4);
    }
    await stopEverything(deadline);
  };
}

/**
 * Redelivers the spool, starting no resend after `resendUntil`, and waits for it until `waitUntil` at
 * the latest; a failure is logged, never thrown.
 */
async function redeliverBefore(producer: Producer, resendUntil: number, waitUntil: number): Promise<void> {
  const redelivered = producer.redeliverSpool({ deadline: resendUntil }).catch((error: unknown) => {
    getLogger().error({
      message: 'spool redelivery before the instance stops failed; shutting the producer down anyway',
      code: (error as { code?: unknown }).code ?? ErrorCode.SPOOL_FAILED,
      error: error as Error,
    });
  });
  await settledBy(redelivered, waitUntil);
}
