import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { shutdownSharedProducer } from '../lib/index.js';
import type { FcHttpResponse } from '../lib/triggers/index.js';
import { UsageError } from './cli.js';
import { CONSOLE_ROUTES, DevConsole } from './dev-console/index.js';
import { DEV_SPOOL_ROUTES, devSpoolRoute } from './dev-spool.js';
import { FUNCTIONS_DIR, fcContext, fcHttpEventFrom, loadFunction } from './emulate.js';
import { type LocalBroker, type StoredMessage, startLocalBroker } from './local-broker/index.js';
import { type FunctionManifest, readManifests } from './manifest.js';
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

/** A request the dev server answers itself, with its status and a stable code. */
class DevError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A path or `/_dev` target no function answers: 404. */
class NotFound extends DevError {
  constructor(message: string) {
    super(404, 'NOT_FOUND', message);
  }
}

/** Largest request body the dev server reads (Lambda's request payload limit); larger ones get 413. */
export const DEV_BODY_LIMIT_BYTES = 6 * 1024 * 1024;

/** The body, read while it streams in, refused with 413 as soon as it passes the limit. */
async function readBody(request: IncomingMessage, limit = DEV_BODY_LIMIT_BYTES): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  const tooLarge = () =>
    new DevError(413, 'BODY_TOO_LARGE', `the request body is larger than ${limit} bytes`);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      // Stop keeping it and answer now.
      request.off('data', onData);
      request.pause();
      reject(tooLarge());
    };
    request.on('data', onData);
    request.once('end', () => resolve(Buffer.concat(chunks)));
    request.once('error', reject);
  });
}

function parseJsonBody(body: Buffer, what: string): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new DevError(400, 'INVALID_JSON', `${what} is not JSON: ${(error as Error).message}`);
  }
}

/** The `/_dev` routes and the one method each takes. */
const DEV_ROUTES: Record<string, string> = {
  '/_dev/oss': 'POST',
  '/_dev/timer': 'POST',
  '/_dev/messages': 'GET',
  ...DEV_SPOOL_ROUTES,
  ...CONSOLE_ROUTES,
};

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
  // The console reads each stored message once the broker says it stored one.
  let onStored: (line: string) => void = () => {};
  if (!process.env.ROCKETMQ_ENDPOINTS) {
    try {
      broker = await startLocalBroker({ port: options.brokerPort, log: (line) => onStored(line) });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      throw new UsageError(
        `broker port ${options.brokerPort} is in use; pick another with --broker-port (0 = any free port)`,
      );
    }
    process.env.ROCKETMQ_ENDPOINTS = broker.endpoint;
  }
  const manifests = await readManifests();
  const devConsole = await DevConsole.start({
    manifests,
    eventsDir: EVENTS_DIR,
    embedded: broker !== undefined,
    endpoint: process.env.ROCKETMQ_ENDPOINTS ?? '',
  });
  if (broker) {
    devConsole.attachBroker(broker);
    onStored = devConsole.onBrokerLine;
  }
  const load = (kind: FunctionManifest['trigger']) =>
    Promise.all(
      manifests
        .filter((m) => m.trigger === kind)
        .map(async (manifest) => ({ manifest, module: await loadFunction(manifest.name, 'fc') })),
    );
  const [httpFunctions, objectFunctions, timerFunctions] = await Promise.all([
    load('http'),
    load('object'),
    load('timer'),
  ]);
  // Each HTTP function serves the paths its manifest declares.
  const routes = new Map<string, (typeof httpFunctions)[number]>();
  for (const served of httpFunctions) {
    for (const path of served.manifest.http?.paths ?? []) routes.set(path, served);
  }
  const seen = new Map<string, number>();
  const tail = () => {
    if (!broker) return;
    for (const topic of broker.topics.keys()) {
      const all = broker.messages(topic);
      for (const message of all.slice(seen.get(topic) ?? 0)) options.print(tailLine(message));
      seen.set(topic, all.length);
    }
  };

  type Loaded = (typeof httpFunctions)[number];
  const runEvent = async (
    { manifest, module }: Loaded,
    event: unknown,
    seen: { trigger: string; source: string; sample: string | null },
  ) => {
    const result = await devConsole.invoke({ functionName: manifest.name, platform: 'fc', ...seen }, () =>
      module.handler(Buffer.from(JSON.stringify(event)), fcContext(manifest.name, manifest.timeout)),
    );
    tail();
    return result;
  };

  /** The function a `/_dev` route runs: `?function=<name>`, else the only (first) one of its kind. */
  const pick = (loaded: Loaded[], url: URL, kind: string): Loaded | undefined => {
    const name = url.searchParams.get('function');
    if (name === null) return loaded[0];
    const found = loaded.find((entry) => entry.manifest.name === name);
    if (!found) throw new NotFound(`no ${kind} function named "${name}"`);
    return found;
  };

  const fireTimer = async (fn: Loaded, source: string, payload?: string) => {
    const sample = JSON.parse(await readFile(join(EVENTS_DIR, 'fc', 'timer.json'), 'utf8'));
    const trigger = fn.manifest.fc.triggers.find((t) => t.type === 'timer');
    const event = {
      ...sample,
      triggerName: trigger?.name ?? sample.triggerName,
      triggerTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      payload: payload ?? (trigger?.type === 'timer' ? trigger.payload : undefined) ?? sample.payload,
    };
    return runEvent(fn, event, { trigger: 'timer', source, sample: 'fc/timer.json' });
  };

  const route = async (request: IncomingMessage, response: ServerResponse) => {
    const started = Date.now();
    let servedBy = '';
    response.once('finish', () =>
      options.print(
        `  ${request.method} ${request.url} → ${response.statusCode} ${Date.now() - started} ms${servedBy && ` (${servedBy})`}`,
      ),
    );
    const url = new URL(request.url ?? '/', 'http://localhost');
    try {
      decodeURIComponent(url.pathname);
    } catch {
      throw new DevError(400, 'BAD_PATH', `the path ${url.pathname} is not valid percent-encoding`);
    }
    const method = DEV_ROUTES[url.pathname];
    if (method !== undefined && request.method !== method) {
      response.setHeader('allow', method);
      throw new DevError(405, 'METHOD_NOT_ALLOWED', `${url.pathname} takes ${method}`);
    }
    const body = await readBody(request);
    if (url.pathname === '/_dev/oss' && request.method === 'POST') {
      const fn = pick(objectFunctions, url, 'object');
      if (!fn) throw new NotFound('no function has an object trigger');
      servedBy = fn.manifest.name;
      const posted = body.length > 0;
      const event = posted
        ? parseJsonBody(body, 'the OSS event')
        : JSON.parse(await readFile(join(EVENTS_DIR, 'fc', 'oss-put.json'), 'utf8'));
      const seen = { trigger: 'object', source: 'POST /_dev/oss', sample: posted ? null : 'fc/oss-put.json' };
      return sendJson(response, 200, await runEvent(fn, event, seen));
    }
    if (url.pathname === '/_dev/timer' && request.method === 'POST') {
      const fn = pick(timerFunctions, url, 'timer');
      if (!fn) throw new NotFound('no function has a timer trigger');
      servedBy = fn.manifest.name;
      // Timer payloads are JSON here (metrics-reporter's gauges): a typo is an error, not an empty tick.
      if (body.length > 0) parseJsonBody(body, 'the timer payload');
      return sendJson(
        response,
        200,
        await fireTimer(fn, 'POST /_dev/timer', body.length > 0 ? body.toString('utf8') : undefined),
      );
    }
    if (await devConsole.route(url, request, response)) return;
    const spoolAnswer = await devSpoolRoute(url, broker);
    if (spoolAnswer !== undefined) return sendJson(response, 200, spoolAnswer);
    if (url.pathname === '/_dev/messages' && request.method === 'GET') {
      const topic = url.searchParams.get('topic') ?? 'orders';
      const list = broker?.messages(topic) ?? [];
      return sendJson(
        response,
        200,
        list.map((m) => ({
          topic: m.topic,
          storeTime: new Date(m.storeTimestamp).toISOString(),
          messageId: m.messageId,
          tag: m.tag,
          keys: m.keys,
          properties: m.properties,
          body: m.body.toString('utf8'),
        })),
      );
    }
    const served = routes.get(url.pathname);
    if (!served || url.pathname.startsWith('/_dev/')) {
      const paths = [...routes.keys()].join(', ') || 'none';
      throw new NotFound(`no function serves ${url.pathname} (HTTP functions serve: ${paths})`);
    }
    servedBy = served.manifest.name;
    const answer = (await devConsole.invoke(
      {
        functionName: served.manifest.name,
        platform: 'fc',
        trigger: 'http',
        source: `${request.method} ${url.pathname}`,
        sample: null,
      },
      () =>
        served.module.handler(
          fcHttpEventFrom(request, body),
          fcContext(served.manifest.name, served.manifest.timeout),
        ),
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
      if (error instanceof DevError) {
        // The rest of a refused body is read and dropped, never kept: closing on a client still sending
        // would reset the connection before it reads the answer.
        if (error.status === 413) request.resume();
        return sendJson(response, error.status, { error: { code: error.code, message: error.message } });
      }
      const { code, message } = error as { code?: string; message?: string };
      sendJson(response, code === undefined ? 500 : 422, { error: { code: code ?? 'DEV_SERVER', message } });
    });
  });
  server.listen(options.port, '127.0.0.1');
  try {
    await once(server, 'listening');
  } catch (error) {
    devConsole.close();
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
    ? await startConfiguredTriggers({
        endpoint: broker.endpoint,
        print: options.print,
        afterDelivery: tail,
        around: (name, event, call) => devConsole.invokeByTrigger(name, event, call),
      })
    : undefined;

  const timer =
    options.timerIntervalSeconds > 0
      ? setInterval(() => {
          for (const fn of timerFunctions) {
            fireTimer(fn, 'timer tick').catch((error: unknown) =>
              options.print(`  ${fn.manifest.name} failed: ${(error as Error).message}`),
            );
          }
        }, options.timerIntervalSeconds * 1000)
      : undefined;

  options.print(
    [
      '',
      `rocketmq-serverless dev server — broker ${process.env.ROCKETMQ_ENDPOINTS}${broker ? ' (embedded)' : ''}`,
      `listening on ${url}`,
      `console: ${url}/_dev/`,
      '',
      'Try:',
      `  curl -s -X POST ${url}/orders -H 'content-type: application/json' \\`,
      `       -d '{"orderId":"1001","customerId":"c-42","items":[{"sku":"A1","qty":2}],"total":59.8}'`,
      `  curl -s -X POST ${url}/_dev/oss --data-binary @events/fc/oss-put.json`,
      `  curl -s -X POST ${url}/_dev/timer -d '{"gauges":{"orders.pending":12}}'`,
      `  curl -s '${url}/_dev/messages?topic=orders'`,
      '',
      ...httpFunctions.map(
        ({ manifest }) =>
          `${manifest.name} serves ${manifest.http?.methods.join('|')} ${manifest.http?.paths.join(', ')}.`,
      ),
      options.timerIntervalSeconds > 0 && timerFunctions.length > 0
        ? `${timerFunctions.map((fn) => fn.manifest.name).join(', ')} fire every ${options.timerIntervalSeconds}s.`
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
      // Its event streams stay open for as long as a page is: they are ended, not waited for.
      devConsole.close();
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
