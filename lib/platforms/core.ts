import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from '@aws-lambda-powertools/logger';
import { stopInstance } from '../lifecycle.js';
import { getLogger } from '../log.js';
import type { Producer, ProducerOptions } from '../producer/producer.js';
import { getProducer, hasOpenSharedProducer, shutdownSharedProducer } from '../producer/shared.js';
import { runInvocation, runWithTraceparent } from '../trace-context.js';
import { errorResponse, type HttpRequest, type HttpResponse } from '../triggers/index.js';
import { createInvocation, drainInvocation, type Invocation, invocationWindow } from './invocation.js';

/**
 * What FC and Lambda share once each wrapper has read its platform's calling convention: the
 * invocation and its logger, the request's scope, the HTTP answer, and the end of the instance. The
 * wrappers (fc.ts, lambda.ts) only translate events, contexts and responses.
 */

/** A platform-neutral HTTP core: a request in, a response out. */
export type HttpCore = (request: HttpRequest, invocation: Invocation) => Promise<HttpResponse>;

/** The logger of the request in progress, for the library lines written on its behalf. */
const requestLoggers = new AsyncLocalStorage<Logger>();

/**
 * A logger that writes each line through the logger of the request in progress (see
 * {@link runWithRequestLogger}), and through `base` outside any request. The shared producer logs
 * through one, so that with several requests served at once (FC instance concurrency) its lines carry
 * the keys of the request they belong to and never another's.
 */
export function requestRoutedLogger(base: Logger): Logger {
  return new Proxy(base, {
    get(target, key) {
      const logger = requestLoggers.getStore() ?? target;
      const value: unknown = Reflect.get(logger, key, logger);
      return typeof value === 'function' ? value.bind(logger) : value;
    },
  });
}

/** Runs `work` with `logger` as the logger of the request in progress. */
export function runWithRequestLogger<T>(logger: Logger, work: () => T): T {
  return requestLoggers.run(logger, work);
}

/**
 * The shared producer. When the wrapper is the one to create it, it logs through a
 * {@link requestRoutedLogger} (unless the options bring a logger). Options count only when it is
 * created; later calls take it as it is.
 */
export function sharedProducer(options?: ProducerOptions): Producer {
  if (hasOpenSharedProducer()) return getProducer();
  return getProducer({ logger: requestRoutedLogger(getLogger()), ...options });
}

export interface InvocationStart {
  platform: Invocation['platform'];
  requestId: string;
  functionName: string;
  /** What the platform still gives this invocation, in ms. */
  remainingMs: number;
  producer: Producer;
  /** Keys every line of this request carries, beside those the shared logger already has. */
  logKeys?: Record<string, unknown>;
}

/**
 * An invocation with a logger of its own: a child of the shared logger, so that its keys stay with it
 * however requests interleave. Nothing is added to the shared logger.
 */
export function startInvocation(start: InvocationStart): Invocation {
  const { logKeys, remainingMs, ...fields } = start;
  const logger = getLogger().createChild(logKeys ? { persistentKeys: logKeys } : {});
  return createInvocation({ ...fields, ...invocationWindow(remainingMs), logger });
}

/**
 * Runs one invocation from start to drain: its sends are its own (another request served by the same
 * instance keeps its own), the library writes its lines through the invocation's logger, and the
 * sends it left open are drained before the result is handed back.
 */
export function serveInvocation<T>(
  start: () => Invocation,
  work: (invocation: Invocation) => Promise<T>,
): Promise<T> {
  // Async from the start: a context the wrapper refuses rejects the call rather than throwing from it.
  return runInvocation(async () => {
    const invocation = start();
    return runWithRequestLogger(invocation.logger, async () => {
      try {
        return await work(invocation);
      } finally {
        await drainInvocation(invocation);
      }
    });
  });
}

/**
 * Serves one HTTP request: `read` maps the platform's event (and may refuse it), the core runs under
 * the request's `traceparent`, and whatever either throws becomes an answer — 4xx for a bad request,
 * 503 / 504 for a broker failure, 500 otherwise. Only server-side failures are logged; a bad request
 * is the caller's, not ours.
 */
export async function serveHttp(
  core: HttpCore,
  read: () => HttpRequest | Promise<HttpRequest>,
  invocation: Invocation,
): Promise<HttpResponse> {
  try {
    const request = await read();
    // An incoming W3C header wins over the platform's own trace id.
    return await runWithTraceparent(request.traceparent, () => core(request, invocation));
  } catch (error) {
    const response = errorResponse(error);
    if (response.statusCode >= 500) {
      invocation.logger.error({ message: 'HTTP handler failed', error: error as Error });
    }
    return response;
  }
}

/**
 * The end of the instance (FC `preStop`, Lambda's SIGTERM): the registered stop hooks (the shared
 * consumers among them) and the shared producer, at once, by `deadline`.
 */
export async function stopEverything(deadline: number): Promise<void> {
  await Promise.all([stopInstance(deadline), shutdownSharedProducer({ deadline })]);
}
