import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { shutdownSharedProducer } from '../lib/index.js';
import type { FcHttpResponse } from '../lib/triggers/index.js';
import { UsageError } from './cli.js';
import { FUNCTIONS_DIR, fcContext, fcHttpEventFrom, loadFunction } from './emulate.js';
import { type LocalBroker, type StoredMessage, startLocalBroker } from './local-broker/index.js';
import { type ConfiguredTriggers, startConfiguredTriggers } from './rocketmq-trigger.js';

export interface DevServerOptions {
  port: number;
  brokerPort: number;
  timerIntervalSeconds: number;
  /** Where the banner and the tail go. */
  print: (line: string) => void;
}

export interface DevServer {
  url: string;
  broker: LocalBroker | undefined;
  /**
   * Stops cleanly: accepts nothing new (requests arriving on open connections get 503), lets requests in
   * flight finish within `graceMs` (default 10 s, more than a send's timeout), answers any still open
   * with 503, then shuts the producer and the embedded broker down.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

/** How long a stop waits for requests in flight: longer than a sync send with its retries. */
const STOP_GRACE_MS = 10_000;

const EVENTS_DIR = join(FUNCTIONS_DIR, '..', 'events');

function tailLine(message: StoredMessage): string {
  const body = message.body.toString('utf8');
  const preview = body.length > 100 ? `${body.slice(0, 97)}...` : body;
  return `  ← ${message.topic} ${message.type.toLowerCase()} tag=${message.tag ?? '-'} keys=${message.keys.join(',') || '-'} ${preview}`;
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(`${JSON.stringify(value, null, 2)}\n`);
}

export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  let broker: LocalBroker | undefined;
  if (!process.env.ROCKETMQ_ENDPOINTS) {
    try {
      broker = await startLocalBroker({ port: options.brokerPort });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      throw new UsageError(
        `broker port ${options.brokerPort} is in use; pick another with --broker-port (0 = any free port)`,
      );
    }
    process.env.ROCKETMQ_ENDPOINTS = broker.endpoint;
  }
  const [orders, fanout, metrics] = await Promise.all([
    loadFunction('order-confirmation', 'fc'),
    loadFunction('object-fanout', 'fc'),
    loadFunction('metrics-reporter', 'fc'),
  ]);
  const seen = new Map<string, number>();
  const tail = () => {
    if (!broker) return;
    for (const topic of broker.topics.keys()) {
      const all = broker.messages(topic);
      for (const message of all.slice(seen.get(topic) ?? 0)) options.print(tailLine(message));
      seen.set(topic, all.length);
    }
  };

  const runEvent = async (fn: typeof fanout, name: string, event: unknown) => {
    const result = await fn.handler(Buffer.from(JSON.stringify(event)), fcContext(name));
    tail();
    return result;
  };

  const fireTimer = async (payload?: string) => {
    const sample = JSON.parse(await readFile(join(EVENTS_DIR, 'fc', 'timer.json'), 'utf8'));
    const event = {
      ...sample,
      triggerTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      payload: payload ?? sample.payload,
    };
    return runEvent(metrics, 'metrics-reporter', event);
  };

  const route = async (request: IncomingMessage, response: ServerResponse) => {
    const body = await buffer(request);
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname === '/_dev/oss' && request.method === 'POST') {
      const event =
        body.length > 0
          ? JSON.parse(body.toString('utf8'))
          : JSON.parse(await readFile(join(EVENTS_DIR, 'fc', 'oss-put.json'), 'utf8'));
      return sendJson(response, 200, await runEvent(fanout, 'object-fanout', event));
    }
    if (url.pathname === '/_dev/timer' && request.method === 'POST') {
      return sendJson(response, 200, await fireTimer(body.length > 0 ? body.toString('utf8') : undefined));
    }
    if (url.pathname === '/_dev/messages' && request.method === 'GET') {
      const topic = url.searchParams.get('topic') ?? 'orders';
      const list = broker?.messages(topic) ?? [];
      return sendJson(
        response,
        200,
        list.map((m) => ({
          messageId: m.messageId,
          tag: m.tag,
          keys: m.keys,
          properties: m.properties,
          body: m.body.toString('utf8'),
        })),
      );
    }
    const answer = (await orders.handler(
      fcHttpEventFrom(request, body),
      fcContext('order-confirmation'),
    )) as FcHttpResponse;
    tail();
    response.writeHead(answer.statusCode, answer.headers);
    response.end(Buffer.from(answer.body, answer.isBase64Encoded ? 'base64' : 'utf8'));
  };

  // Requests being served: a stop lets them finish (within its grace) before anything shuts down.
  const inFlight = new Set<ServerResponse>();
  let stopping = false;
  const server: Server = createServer((request, response) => {
    if (stopping) {
      // Arrived on a kept-alive connection after the stop began: nothing was done for it.
      response.setHeader('connection', 'close');
      return sendJson(response, 503, {
        error: { code: 'DEV_SERVER_STOPPING', message: 'the dev server is stopping; nothing was sent' },
      });
    }
    inFlight.add(response);
    response.once('close', () => inFlight.delete(response));
    route(request, response).catch((error: unknown) => {
      tail();
      const { code, message } = error as { code?: string; message?: string };
      sendJson(response, code === undefined ? 500 : 422, { error: { code: code ?? 'DEV_SERVER', message } });
    });
  });
  server.listen(options.port, '127.0.0.1');
  try {
    await once(server, 'listening');
  } catch (error) {
    await broker?.stop();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new UsageError(`port ${options.port} is in use; pick another with --port (0 = any free port)`);
    }
    throw error;
  }
  const { port } = server.address() as { port: number };
  const url = `http://127.0.0.1:${port}`;

  // RocketMQ triggers (order-fulfilment on orders) run against the embedded broker only.
  const rocketmqTriggers: ConfiguredTriggers | undefined = broker
    ? await startConfiguredTriggers({ endpoint: broker.endpoint, print: options.print, afterDelivery: tail })
    : undefined;

  const timer =
    options.timerIntervalSeconds > 0
      ? setInterval(() => {
          fireTimer().catch((error: unknown) =>
            options.print(`  metrics-reporter failed: ${(error as Error).message}`),
          );
        }, options.timerIntervalSeconds * 1000)
      : undefined;

  options.print(
    [
      '',
      `rocketmq-serverless dev server — broker ${process.env.ROCKETMQ_ENDPOINTS}${broker ? ' (embedded)' : ''}`,
      `listening on ${url}`,
      '',
      'Try:',
      `  curl -s -X POST ${url}/orders -H 'content-type: application/json' \\`,
      `       -d '{"orderId":"1001","customerId":"c-42","items":[{"sku":"A1","qty":2}],"total":59.8}'`,
      `  curl -s -X POST ${url}/_dev/oss --data-binary @events/fc/oss-put.json`,
      `  curl -s -X POST ${url}/_dev/timer -d '{"gauges":{"orders.pending":12}}'`,
      `  curl -s '${url}/_dev/messages?topic=orders'`,
      '',
      options.timerIntervalSeconds > 0
        ? `metrics-reporter fires every ${options.timerIntervalSeconds}s.`
        : 'timer disabled.',
      ...(rocketmqTriggers?.descriptions.map((line) => `${line}.`) ?? []),
      'Messages the broker stores appear below. Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );

  return {
    url,
    broker,
    async close(closeOptions = {}) {
      const graceMs = closeOptions.graceMs ?? STOP_GRACE_MS;
      if (timer) clearInterval(timer);
      stopping = true;
      // No new connections; idle kept-alive ones close now, busy ones once their answer is written.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const served = Promise.all(
        [...inFlight].map((response) => once(response, 'close').catch(() => undefined)),
      );
      let graceTimer: NodeJS.Timeout | undefined;
      await Promise.race([
        served,
        new Promise<void>((resolve) => {
          graceTimer = setTimeout(resolve, graceMs);
        }),
      ]);
      clearTimeout(graceTimer);
      for (const response of inFlight) {
        if (response.headersSent) continue;
        response.setHeader('connection', 'close');
        sendJson(response, 503, {
          error: {
            code: 'DEV_SERVER_STOPPING',
            message: 'the dev server stopped before this request finished; its outcome is unknown',
          },
        });
      }
      server.closeAllConnections();
      await closed;
      await rocketmqTriggers?.stop();
      await shutdownSharedProducer({ timeoutMs: 2000 });
      await broker?.stop();
    },
  };
}
