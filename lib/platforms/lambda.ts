import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj, type MiddyfiedHandler } from '@middy/core';
import type { Context } from 'aws-lambda';
import { ConfigError, ErrorCode, EventError } from '../errors.js';
import { getLogger } from '../log.js';
import type { ProducerOptions } from '../producer/producer.js';
import { runWithTraceparent, traceparentFromXRay } from '../trace-context.js';
import {
  fromHttpEvent,
  HTTP_BODY_DEFAULTS,
  toApiGatewayV1Response,
  toApiGatewayV2Response,
} from '../triggers/index.js';
import {
  type HttpCore,
  runWithRequestLogger,
  serveHttp,
  sharedProducer,
  startInvocation,
  stopEverything,
} from './core.js';
import { drainInvocation, type Invocation } from './invocation.js';

/** The Lambda context once {@link rocketmq} ran: the invocation rides along for the handler. */
export type RocketMQContext = Context & { rocketmq: Invocation };

/**
 * The invocation {@link rocketmq} put on a Lambda context, typed, for handlers that build their own middy
 * chain. A {@link ConfigError} when the middleware is not in the chain (or runs after the handler).
 */
export function invocationOf(context: Context): Invocation {
  const invocation = (context as Partial<RocketMQContext>).rocketmq;
  if (!invocation) {
    throw new ConfigError(
      'context.rocketmq is not set: add .use(rocketmq()) to the middy chain before the handler',
    );
  }
  return invocation;
}

export interface RocketMQMiddlewareOptions {
  /** Options of the shared producer, used when it is first created in this execution environment. */
  producer?: ProducerOptions;
  /**
   * Shut the producer down on SIGTERM (sent to the runtime when an extension is registered, with a few
   * hundred ms of grace). @default true
   */
  shutdownOnSigterm?: boolean;
}

const SIGTERM_SHUTDOWN_MS = 300;
let sigtermHooked = false;

function hookSigterm(): void {
  if (sigtermHooked) return;
  sigtermHooked = true;
  process.once('SIGTERM', () => {
    void stopEverything(Date.now() + SIGTERM_SHUTDOWN_MS)
      .catch(() => undefined)
      .finally(() => process.exit(0));
  });
}

/**
 * Where {@link rocketmq} keeps its cleanup in middy's `request.internal`, as Powertools' middlewares
 * keep theirs: a middleware that answers early (a cache hit, a validation failure, an idempotent
 * replay) skips the `after` and `onError` stacks, and runs the cleanups it finds there instead, e.g.
 * with {@link cleanupRocketMQ}.
 */
export const ROCKETMQ_CLEANUP_KEY = 'rocketmq-serverless.drain';

type Cleanup = () => Promise<void>;
type CleanupRequest = Pick<middy.Request, 'internal'>;

/** Runs the drain {@link rocketmq} registered on this request, once; a no-op when there is none. */
export async function cleanupRocketMQ(request: CleanupRequest): Promise<void> {
  const cleanup = (request.internal as Record<string, unknown> | undefined)?.[ROCKETMQ_CLEANUP_KEY];
  if (typeof cleanup === 'function') await (cleanup as Cleanup)();
}

/**
 * A middy plugin whose `requestEnd` hook runs the drain when nothing else did: whatever middleware
 * returned early, it still happens before the handler returns. {@link lambdaHandler} builds its chain
 * with it; pass it to your own `middy(rocketmqMiddyPlugin())`.
 */
export function rocketmqMiddyPlugin(): middy.PluginObject {
  return { requestEnd: (request) => cleanupRocketMQ(request) };
}

/**
 * middy middleware: before the handler, makes the shared producer ready and puts an {@link Invocation}
 * on `context.rocketmq` whose deadline leaves a margin of `getRemainingTimeInMillis()`; after the handler
 * (and on error), drains every async and oneway send within that margin. The drain is registered in
 * `request.internal` too, so that it also happens when another middleware answers early (see
 * {@link rocketmqMiddyPlugin}, {@link cleanupRocketMQ}). Works beside Powertools' `injectLambdaContext`.
 */
export function rocketmq(
  options: RocketMQMiddlewareOptions = {},
): MiddlewareObj<unknown, unknown, Error, Context> {
  return {
    name: 'rocketmq',
    before: (request) => {
      if (options.shutdownOnSigterm !== false) hookSigterm();
      const { context } = request;
      const invocation = startInvocation({
        platform: 'aws',
        requestId: context.awsRequestId,
        functionName: context.functionName,
        remainingMs: context.getRemainingTimeInMillis(),
        producer: sharedProducer(options.producer),
      });
      (context as RocketMQContext).rocketmq = invocation;
      let drained: Promise<void> | undefined;
      const cleanup: Cleanup = () => {
        drained ??= drainInvocation(invocation).then(() => undefined);
        return drained;
      };
      request.internal = { ...request.internal, [ROCKETMQ_CLEANUP_KEY]: cleanup };
    },
    after: cleanupRocketMQ,
    onError: cleanupRocketMQ,
  };
}

/**
 * A Lambda handler with Powertools logging and {@link rocketmq}: the core gets the raw event and the
 * invocation, and the library writes its lines for this request through the invocation's logger.
 */
export function lambdaHandler<E, R>(
  core: (event: E, invocation: Invocation) => Promise<R>,
  options?: RocketMQMiddlewareOptions,
): MiddyfiedHandler<E, R, Error, Context> {
  return middy<E, R, Error, Context>(rocketmqMiddyPlugin())
    .use(injectLambdaContext(getLogger(), { resetKeys: true }))
    .use(rocketmq(options) as MiddlewareObj<E, R, Error, Context>)
    .handler(async (event, context) => {
      const invocation = (context as RocketMQContext).rocketmq;
      return runWithRequestLogger(invocation.logger, () =>
        runWithTraceparent(traceparentFromXRay(process.env._X_AMZN_TRACE_ID), () => core(event, invocation)),
      );
    });
}

/**
 * An HTTP handler behind API Gateway (REST v1 or HTTP API v2, detected per event), answering in the
 * shape of the API that called it. Bad requests become 400/405/413 JSON answers; retryable broker
 * failures 503 with `Retry-After`.
 */
export function lambdaHttpHandler(
  core: HttpCore,
  options?: RocketMQMiddlewareOptions & { maxBodyBytes?: number },
) {
  const maxBodyBytes = options?.maxBodyBytes ?? HTTP_BODY_DEFAULTS.maxBodyBytes;
  return lambdaHandler(async (event: unknown, invocation) => {
    const version =
      typeof event === 'object' && event !== null ? (event as { version?: unknown }).version : undefined;
    const read = () => {
      if (version === 'v1') {
        // An FC 3.0 HTTP event has no business here: answering it would hide a wiring mistake.
        throw new EventError(
          ErrorCode.EVENT_INVALID,
          'an FC 3.0 HTTP event (version "v1") reached a Lambda handler; expected an API Gateway REST or HTTP API event',
          { field: 'version' },
        );
      }
      return fromHttpEvent(event as never, { maxBodyBytes });
    };
    const response = await serveHttp(core, read, invocation);
    return version === '2.0' ? toApiGatewayV2Response(response) : toApiGatewayV1Response(response);
  }, options);
}
