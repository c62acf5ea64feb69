import { Readable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode, getLogger } from '../../../lib/index.js';
import { LIBRARY_SOURCE } from '../../../lib/log.js';
import {
  type Fc2HttpResponse,
  type FcContext,
  fcEventHandler,
  fcHttpHandler,
  fcInitializer,
  fcPreStop,
} from '../../../lib/platforms/fc.js';
import { getProducer, shutdownSharedProducer } from '../../../lib/producer/shared.js';
import { jsonResponse, readJsonBody } from '../../../lib/triggers/index.js';
import { captureLogLines, fakeFcContext, fakeProducerOptions, fakeTransport } from './fakes.js';

afterEach(async () => {
  vi.unstubAllEnvs();
  await shutdownSharedProducer({ timeoutMs: 200 });
});

/** An FC 3.0 HTTP event as the platform hands it to the handler: JSON in a Buffer. */
function fakeFc3Event(body: unknown, method = 'POST'): Buffer {
  return Buffer.from(
    JSON.stringify({
      version: 'v1',
      rawPath: '/orders',
      headers: { 'Content-Type': 'application/json' },
      queryParameters: {},
      body: JSON.stringify(body),
      isBase64Encoded: false,
      requestContext: { requestId: 'fake-http', http: { method, path: '/orders' } },
    }),
  );
}

/** The response object of an FC 2.0 HTTP function, recording what the handler wrote. */
function fakeFc2Response(): Fc2HttpResponse & {
  status?: number;
  headers: Record<string, string>;
  body?: string;
} {
  const response = {
    status: undefined as number | undefined,
    headers: {} as Record<string, string>,
    body: undefined as string | undefined,
    setStatusCode: (code: number) => {
      response.status = code;
    },
    setHeader: (name: string, value: string) => {
      response.headers[name] = value;
    },
    send: (body: Buffer | string) => {
      response.body = String(body);
    },
  };
  return response;
}

function fakeFc2Request(body: string) {
  return Object.assign(Readable.from([Buffer.from(body)]), {
    method: 'POST',
    path: '/orders',
    headers: { 'content-type': 'application/json' },
    queries: {},
  });
}

const echo = fcHttpHandler(async (request, invocation) =>
  jsonResponse(200, { got: readJsonBody(request), requestId: invocation.requestId }),
);

describe('fcEventHandler', () => {
  it('hands the core an invocation of the request and drains its async sends before returning', async () => {
    const transport = fakeTransport(30);
    let settled = false;
    const handler = fcEventHandler(
      async (event, invocation) => {
        expect(JSON.parse(String(event))).toEqual({ tick: 1 });
        invocation.producer.sendAsync(
          { topic: 'orders', body: 'async' },
          { onSuccess: () => (settled = true), onException: () => undefined },
        );
        return { requestId: invocation.requestId, platform: invocation.platform };
      },
      { producer: fakeProducerOptions(transport) },
    );
    const result = await handler(Buffer.from('{"tick":1}'), fakeFcContext('fake-event-1'));
    expect(result).toEqual({ requestId: 'fake-event-1', platform: 'fc' });
    expect(settled).toBe(true);
    expect(transport.sent).toEqual(['orders']);
  });

  it('refuses a call without an FC context with EVENT_INVALID', async () => {
    const handler = fcEventHandler(async () => 'never');
    await expect(handler({}, undefined as unknown as FcContext)).rejects.toMatchObject({
      code: ErrorCode.EVENT_INVALID,
    });
  });
});

describe('fcHttpHandler', () => {
  it('serves an FC 3.0 event and answers in its shape', async () => {
    getProducer(fakeProducerOptions(fakeTransport()));
    const response = await echo(fakeFc3Event({ orderId: 'o-1' }), fakeFcContext('fake-http-1'));
    expect(response).toMatchObject({ statusCode: 200, isBase64Encoded: false });
    expect(JSON.parse(String(response?.body))).toEqual({ got: { orderId: 'o-1' }, requestId: 'fake-http-1' });
  });

  it('serves an FC 2.0 call: reads the body from the request stream and writes the response object', async () => {
    getProducer(fakeProducerOptions(fakeTransport()));
    const response = fakeFc2Response();
    const returned = await echo(fakeFc2Request('{"orderId":"o-2"}'), response, fakeFcContext('fake-fc2'));
    expect(returned).toBeUndefined();
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/application\/json/);
    expect(JSON.parse(String(response.body))).toEqual({ got: { orderId: 'o-2' }, requestId: 'fake-fc2' });
  });

  it('answers an FC 2.0 body over maxBodyBytes with 413, without calling the core', async () => {
    getProducer(fakeProducerOptions(fakeTransport()));
    const small = fcHttpHandler(async () => expect.unreachable('the core must not run'), { maxBodyBytes: 8 });
    const response = fakeFc2Response();
    await small(fakeFc2Request('{"orderId":"far too long"}'), response, fakeFcContext('fake-big'));
    expect(response.status).toBe(413);
    expect(JSON.parse(String(response.body))).toMatchObject({ error: { code: ErrorCode.PAYLOAD_TOO_LARGE } });
  });
});

describe('credentials on FC', () => {
  const sts = { accessKeyId: 'STS.fake-id', accessKeySecret: 'fake-secret', securityToken: 'fake-token' };

  it("use the role's STS credentials from the context when options and environment give none", async () => {
    vi.stubEnv('ROCKETMQ_ACCESS_KEY', '');
    vi.stubEnv('ROCKETMQ_SECRET_KEY', '');
    vi.stubEnv('ALIBABA_CLOUD_ACCESS_KEY_ID', '');
    vi.stubEnv('ALIBABA_CLOUD_ACCESS_KEY_SECRET', '');
    await fcInitializer({ producer: fakeProducerOptions(fakeTransport()) })(
      fakeFcContext('fake-init', { credentials: sts }),
    );
    expect(getProducer().config.credentials).toEqual(sts);
  });

  it('leave the context credentials aside when the environment has an AccessKey pair', async () => {
    vi.stubEnv('ROCKETMQ_ACCESS_KEY', 'env-fake-id');
    vi.stubEnv('ROCKETMQ_SECRET_KEY', 'env-fake-secret');
    await fcInitializer({ producer: fakeProducerOptions(fakeTransport()) })(
      fakeFcContext('fake-init', { credentials: sts }),
    );
    expect(getProducer().config.credentials).toMatchObject({ accessKeyId: 'env-fake-id' });
  });
});

describe('FC instance concurrency and the library’s own lines', () => {
  it("two overlapping requests: each one's library lines carry its own request id", async () => {
    const transport = fakeTransport(20);
    const handler = fcEventHandler(
      async (event, invocation) => {
        const { name, pause } = JSON.parse(String(event)) as { name: string; pause: number };
        await new Promise((resolve) => setTimeout(resolve, pause));
        await invocation.producer.send({ topic: 'orders', keys: [name], body: name });
        invocation.producer.sendAsync({ topic: 'orders', keys: [name], body: name });
        return name;
      },
      { producer: fakeProducerOptions(transport) },
    );
    const first = fakeFcContext('fake-request-first');
    const second = fakeFcContext('fake-request-second');
    const { result, records } = await captureLogLines(getLogger(), 'DEBUG', () =>
      Promise.all([
        handler(Buffer.from('{"name":"first","pause":30}'), first),
        handler(Buffer.from('{"name":"second","pause":0}'), second),
      ]),
    );
    expect(result).toEqual(['first', 'second']);
    const sent = records.filter((record) => record.source === LIBRARY_SOURCE && record.message === 'sent');
    // A sync and an async send per request, each logged once when it was acknowledged.
    expect(sent.map((record) => (record.keys as string[])[0]).sort()).toEqual([
      'first',
      'first',
      'second',
      'second',
    ]);
    for (const record of sent) {
      const name = (record.keys as string[])[0];
      expect({ name, requestId: record.requestId }).toEqual({
        name,
        requestId: name === 'first' ? first.requestId : second.requestId,
      });
    }
    // Nothing was left on the shared logger for lines outside any request.
    expect(getLogger().getPersistentLogAttributes()).not.toHaveProperty('requestId');
  });
});

describe('fcPreStop', () => {
  it("waits past the resend deadline for the spool's write-back, and shuts down only after it", async () => {
    const order: string[] = [];
    let resendUntil = 0;
    // A fake spool whose redelivery, like a real one, still writes back what it kept after its last
    // resend: it settles 50 ms after the deadline it was given.
    const spool = {
      append: async () => 'record',
      list: async () => [],
      redeliver: async (_send: unknown, options?: { deadline?: number }) => {
        resendUntil = options?.deadline ?? 0;
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, resendUntil - Date.now()) + 50));
        order.push('written back');
        return { delivered: 0, failed: 1, rejected: 0, quarantined: 0, remaining: 0 };
      },
    };
    const producer = getProducer({ ...fakeProducerOptions(fakeTransport()), spool });
    const shutdown = producer.shutdown.bind(producer);
    producer.shutdown = (options) => {
      order.push('shutdown');
      return shutdown(options);
    };
    const started = Date.now();
    await fcPreStop({ timeoutMs: 2000 })(fakeFcContext('prestop'));
    // Resends stop at half the hook's time (a few ms of slack for the clock ticking between the two reads).
    expect(resendUntil - started).toBeLessThanOrEqual(1000 + 50);
    expect(order).toEqual(['written back', 'shutdown']);
    expect(producer.closed).toBe(true);
  });
});
