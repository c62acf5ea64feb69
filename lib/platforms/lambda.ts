import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj, type MiddyfiedHandler } from '@middy/core';
import type { Context } from 'aws-lambda';
import { ConfigError, ErrorCode, EventError } from '../errors.js';
import { stopInstance } from '../lifecycle.js';
import { getLogger } from '../log.js';
import type { ProducerOptions } from '../producer/producer.js';
import { getProducer, shutdownSharedProducer } from '../producer/shared.js';
import { runWithTraceparent, traceparentFromXRay } from '../trace-context.js';
import {
  fromHttpEvent,
  HTTP_BODY_DEFAULTS,
  type HttpRequest,
  type HttpResponse,
  toApiGatewayV1Response,
  toApiGatewayV2Response,
} from '../triggers/index.js';
import {
  createInvocation,
  drainInvocation,
  failedHttpResponse,
  type Invocation,
  invocationWindow,
} from './invocation.js';

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
    const deadline = Date.now() + SIGTERM_SHUTDOWN_MS;
    void Promise.allSettled([stopInstance(deadline), shutdownSharedProducer({ deadline })]).finally(() =>
      process.exit(0),
    );
  });
}

/**
 * middy middleware: before the handler, makes the shared producer ready and puts an {@link Invocation}
 * on `context.rocketmq` whose deadline leaves a margin of `getRemainingTimeInMillis()`; after the handler
 * (and on error), drains every async and oneway send within that margin. Works beside Powertools'
 * `injectLambdaContext`.
 */
export function rocketmq(
  options: RocketMQMiddlewareOptions = {},
): MiddlewareObj<unknown, unknown, Error, Context> {
  const drain = async (context: Context) => {
    const invocation = (context as Partial<RocketMQContext>).rocketmq;
    if (invocation) await drainInvocation(invocation);
  };
  return {
    name: 'rocketmq',
    before: (request) => {
      if (options.shutdownOnSigterm !== false) hookSigterm();
      const { context } = request;
      const remaining = context.getRemainingTimeInMillis();
      (context as RocketMQContext).rocketmq = createInvocation({
        platform: 'aws',
        requestId: context.awsRequestId,
        functionName: context.functionName,
        ...invocationWindow(remaining),
        producer: getProducer(options.producer),
        logger: getLogger(),
      });
    },
    after: (request) => drain(request.context),
    onError: (request) => drain(request.context),
  };
}

/**
 * A Lambda handler with Powertools logging and {@link rocketmq}: the core gets the raw event and the
 * invocation.
 */
export function lambdaHandler<E, R>(
  core: (event: E, invocation: Invocation) => Promise<R>,
  options?: RocketMQMiddlewareOptions,
): MiddyfiedHandler<E, R, Error, Context> {
  return middy<E, R, Error, Context>()
    .use(injectLambdaContext(getLogger(), { resetKeys: true }))
    .use(rocketmq(options) as MiddlewareObj<E, R, Error, Context>)
    .handler(async (event, context) =>
      runWithTraceparent(traceparentFromXRay(process.env._X_AMZN_TRACE_ID), () =>
        core(event, (context as RocketMQContext).rocketmq),
      ),
    );
}

/**
 * An HTTP handler behind API Gateway (REST v1 or HTTP API v2, detected per event), answering in the
 * shape of the API that called it. Bad requests become 400/405/413 JSON answers; retryable broker
 * failures 503 with `Retry-After`.
 */
export function lambdaHttpHandler(
  handler: (request: HttpRequest, invocation: Invocation) => Promise<HttpResponse>,
  options?: RocketMQMiddlewareOptions & { maxBodyBytes?: number },
) {
  const maxBodyBytes = options?.maxBodyBytes ?? HTTP_BODY_DEFAULTS.maxBodyBytes;
  return lambdaHandler(async (event: unknown, invocation) => {
    const isV2 =
      typeof event === 'object' && event !== null && (event as { version?: unknown }).version === '2.0';
    const toResponse = isV2 ? toApiGatewayV2Response : toApiGatewayV1Response;
    try {
      if (typeof event === 'object' && event !== null && (event as { version?: unknown }).version === 'v1') {
        // An FC 3.0 HTTP event has no business here: answering it would hide a wiring mistake.
        throw new EventError(
          ErrorCode.EVENT_INVALID,
          'an FC 3.0 HTTP event (version "v1") reached a Lambda handler; expected an API Gateway REST or HTTP API event',
          { field: 'version' },
        );
      }
      const request = fromHttpEvent(event as never, { maxBodyBytes });
      // An incoming W3C header wins over the X-Ray id the runtime set for this invocation.
      return toResponse(await runWithTraceparent(request.traceparent, () => handler(request, invocation)));
    } catch (error) {
      return toResponse(failedHttpResponse(error, invocation));
    }
  }, options);
}
