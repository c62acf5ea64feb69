/**
 * 4. Warm invocation overhead of each function's platform wrapper and trigger mapper, without the
 * network: the shared producer is created first on a fake transport whose calls resolve at once, so
 * what is left is the wrapper, the mapper, the function's own code and the producer's local work
 * (validation, encoding, drain). Each handler is called as its platform calls it, with the sample
 * events; contexts and request streams are built outside the timed region.
 */
import { readFileSync } from 'node:fs';
import { fc2CallFrom, fcContext, lambdaContext } from '../infra/emulate.js';
import type { Transport } from '../lib/entries/advanced.js';
import { getProducer, shutdownSharedProducer } from '../lib/index.js';
import type { BenchContext } from './context.js';
import { latencySummary, roundSpread, type Spread, spreadOf } from './stats.js';

export interface WrapperCase {
  function: string;
  /** How the platform calls the handler. */
  shape: string;
  event: string;
  p50Us: Spread;
  p99Us: Spread;
}

export interface WrapperResult {
  iterationsPerRound: number;
  cases: WrapperCase[];
}

/** A transport that moves no bytes: every call succeeds at once. */
export function fakeTransport(): Transport {
  let offset = 0;
  return {
    generation: 0,
    answers: 0,
    send: () => Promise.resolve({ messageId: `FAKE${offset}`, offset: offset++ }),
    reset: () => false,
    forgetTopic: () => undefined,
    warmUp: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

const EVENTS = new URL('../events/', import.meta.url);
const readEvent = (path: string) => readFileSync(new URL(path, EVENTS));

interface Case {
  function: string;
  shape: string;
  event: string;
  /** Builds the call's inputs (untimed) and returns the timed call. */
  prepare(): () => Promise<unknown>;
  /** Throws unless the first result is the function's success answer. */
  check(result: unknown): void;
}

type Handler = (...args: unknown[]) => Promise<unknown>;

function expectStatus(status: number) {
  return (result: unknown) => {
    const got = (result as { statusCode?: number } | undefined)?.statusCode;
    if (got !== status) throw new Error(`expected HTTP ${status}, got ${JSON.stringify(result)}`);
  };
}

function expectField(field: string) {
  return (result: unknown) => {
    const value = (result as Record<string, unknown> | undefined)?.[field];
    if (typeof value !== 'number' || value <= 0)
      throw new Error(`expected ${field} > 0, got ${JSON.stringify(result)}`);
  };
}

async function loadCases(): Promise<Case[]> {
  const load = async (name: string, platform: 'fc' | 'aws') =>
    ((await import(`../functions/${name}/${platform}.js`)) as { handler: Handler }).handler;
  const order = { fc: await load('order-confirmation', 'fc'), aws: await load('order-confirmation', 'aws') };
  const fanout = { fc: await load('object-fanout', 'fc'), aws: await load('object-fanout', 'aws') };
  const metrics = { fc: await load('metrics-reporter', 'fc'), aws: await load('metrics-reporter', 'aws') };
  const httpOrder = readEvent('fc/http-order.json');
  const fcEvent = (handler: Handler, name: string, raw: Buffer) => () => {
    const context = fcContext(name);
    return () => handler(raw, context);
  };
  const lambdaEvent = (handler: Handler, name: string, raw: Buffer) => {
    const parsed = JSON.parse(raw.toString('utf8')) as unknown;
    return () => {
      const event = structuredClone(parsed);
      const context = lambdaContext(name);
      return () => handler(event, context);
    };
  };
  return [
    {
      function: 'order-confirmation',
      shape: 'FC 3.0 HTTP event',
      event: 'fc/http-order.json',
      prepare: fcEvent(order.fc, 'order-confirmation', httpOrder),
      check: expectStatus(200),
    },
    {
      function: 'order-confirmation',
      shape: 'FC 2.0 (req, res, ctx)',
      event: 'fc/http-order.json',
      prepare: () => {
        const call = fc2CallFrom(JSON.parse(httpOrder.toString('utf8')));
        const context = fcContext('order-confirmation');
        return async () => {
          await order.fc(call.request, call.response, context);
          return call.sent;
        };
      },
      check: expectStatus(200),
    },
    {
      function: 'order-confirmation',
      shape: 'Lambda API GW v1',
      event: 'aws/apigw-v1-order.json',
      prepare: lambdaEvent(order.aws, 'order-confirmation', readEvent('aws/apigw-v1-order.json')),
      check: expectStatus(200),
    },
    {
      function: 'order-confirmation',
      shape: 'Lambda API GW v2',
      event: 'aws/apigw-v2-order.json',
      prepare: lambdaEvent(order.aws, 'order-confirmation', readEvent('aws/apigw-v2-order.json')),
      check: expectStatus(200),
    },
    {
      function: 'object-fanout',
      shape: 'FC OSS event',
      event: 'fc/oss-put.json',
      prepare: fcEvent(fanout.fc, 'object-fanout', readEvent('fc/oss-put.json')),
      check: expectField('sent'),
    },
    {
      function: 'object-fanout',
      shape: 'Lambda S3 event',
      event: 'aws/s3-put.json',
      prepare: lambdaEvent(fanout.aws, 'object-fanout', readEvent('aws/s3-put.json')),
      check: expectField('sent'),
    },
    {
      function: 'metrics-reporter',
      shape: 'FC timer event',
      event: 'fc/timer.json',
      prepare: fcEvent(metrics.fc, 'metrics-reporter', readEvent('fc/timer.json')),
      check: expectField('reported'),
    },
    {
      function: 'metrics-reporter',
      shape: 'Lambda schedule event',
      event: 'aws/schedule.json',
      prepare: lambdaEvent(metrics.aws, 'metrics-reporter', readEvent('aws/schedule.json')),
      check: expectField('reported'),
    },
  ];
}

async function timeCase(item: Case, iterations: number): Promise<Float64Array> {
  const samples = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const call = item.prepare();
    const started = process.hrtime.bigint();
    await call();
    samples[i] = Number(process.hrtime.bigint() - started) / 1000;
  }
  return samples;
}

/**
 * Each function runs in its own instance in production, with its own shared producer. Between functions
 * the shared producer is replaced by a fresh one on a fake transport, so that state one function builds
 * up (e.g. the latency samples of order-confirmation's sync sends) never slows another one down.
 */
async function freshSharedProducer(): Promise<void> {
  await shutdownSharedProducer();
  const transport = fakeTransport();
  getProducer({ endpoints: 'fake:1', transportFactory: () => transport });
}

async function timeFunctions(cases: Case[], iterations: number): Promise<Map<Case, Float64Array>> {
  const samples = new Map<Case, Float64Array>();
  for (const name of new Set(cases.map((item) => item.function))) {
    await freshSharedProducer();
    for (const item of cases.filter((candidate) => candidate.function === name))
      samples.set(item, await timeCase(item, iterations));
  }
  return samples;
}

export async function benchWrappers(context: BenchContext): Promise<WrapperResult> {
  // Created before any handler runs, so every handler's getProducer() returns the fake one.
  await freshSharedProducer();
  try {
    const cases = await loadCases();
    const iterations = context.n;
    for (const item of cases) item.check(await item.prepare()());
    await timeFunctions(cases, Math.min(iterations, 500));
    const rounds = new Map<Case, { p50: number; p99: number }[]>(cases.map((item) => [item, []]));
    for (let r = 0; r < context.rounds; r++) {
      context.progress(`wrappers round ${r + 1}/${context.rounds}`);
      for (const [item, samples] of await timeFunctions(cases, iterations))
        rounds.get(item)?.push(latencySummary(samples));
    }
    return {
      iterationsPerRound: iterations,
      cases: cases.map((item) => {
        const list = rounds.get(item) ?? [];
        return {
          function: item.function,
          shape: item.shape,
          event: item.event,
          p50Us: roundSpread(
            spreadOf(list, (x) => x.p50),
            1,
          ),
          p99Us: roundSpread(
            spreadOf(list, (x) => x.p99),
            1,
          ),
        };
      }),
    };
  } finally {
    await shutdownSharedProducer();
  }
}
