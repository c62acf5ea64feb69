import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http2';
import { type AddressInfo, createServer as createTcpServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type LocalBroker, startLocalBroker } from '../../infra/local-broker/index.js';
import { resolveConfig } from '../../lib/entries/advanced.js';
import { ErrorCode, type Producer, validateMessage } from '../../lib/index.js';
import type { ClientLogger } from '../../lib/log.js';
import { classifyError } from '../../lib/producer/classify.js';
import { createProducer } from '../../lib/producer/shared.js';
import { LeanTransport, OfficialTransport } from '../../lib/transport/index.js';
import { runTs } from '../deploy/support/run-cli.js';

const quiet: ClientLogger = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} };
const FIVE_MINUTES = 5 * 60_000;

let broker: LocalBroker;
let signed: LocalBroker;
const producers: Producer[] = [];
const transports: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  [broker, signed] = await Promise.all([startLocalBroker(), startLocalBroker({ credentials: { AK: 'SK' } })]);
});

afterAll(async () => {
  await Promise.all(producers.map((producer) => producer.shutdown({ timeoutMs: 5000 })));
  await Promise.all(transports.map((transport) => transport.close()));
  await Promise.all([broker.stop(), signed.stop()]);
});

/** A clock that a test can move forward, as if the instance had been frozen meanwhile. */
function movableClock() {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance(ms: number) {
      offset += ms;
    },
  };
}

function leanProducer(options: Parameters<typeof createProducer>[0] = {}, clock = movableClock()) {
  const producer = createProducer({
    endpoints: broker.endpoint,
    transportFactory: (config, logger) => new LeanTransport(config, logger, { clock: clock.now }),
    ...options,
  });
  producers.push(producer);
  return { producer, clock };
}

function leanTransport(endpoint: string, options: Parameters<typeof resolveConfig>[0] = {}) {
  const transport = new LeanTransport(resolveConfig({ endpoints: endpoint, ...options }, {}), quiet);
  transports.push(transport);
  return transport;
}

const message = (topic = 'orders', body = 'x') => validateMessage({ topic, body });

describe('freeze and thaw', () => {
  it('the first send after a long freeze opens a fresh connection and succeeds in one attempt', async () => {
    const { producer, clock } = leanProducer({ sendTimeoutMs: 3000 });
    await producer.send({ topic: 'orders', body: 'before the freeze' });
    broker.faults.freezeConnections();
    clock.advance(FIVE_MINUTES);
    try {
      const result = await producer.send({ topic: 'orders', keys: ['after-freeze'], body: 'thawed' });
      expect(result.attempts).toBe(1);
      expect(producer.stats().clientResets).toBe(0);
      expect(broker.messages('orders').some((stored) => stored.messageId === result.messageId)).toBe(true);
    } finally {
      broker.faults.reset();
    }
  });

  it('a connection that went silent without an idle gap is still replaced by the retry', async () => {
    const { producer } = leanProducer({ sendTimeoutMs: 2000 });
    await producer.send({ topic: 'orders', body: 'before' });
    broker.faults.freezeConnections();
    try {
      const result = await producer.send({ topic: 'orders', body: 'after' });
      expect(result.attempts).toBe(2);
      expect(producer.stats().clientResets).toBe(1);
    } finally {
      broker.faults.reset();
    }
  });
});

describe('message ids', () => {
  it('a message keeps its id across attempts, so a duplicate stored by a retry carries the same id', async () => {
    const transport = leanTransport(broker.endpoint);
    const prepared = message('orders', 'retried');
    const first = await transport.send(prepared);
    const second = await transport.send(prepared);
    const other = await transport.send(message('orders', 'another'));
    expect(second.messageId).toBe(first.messageId);
    expect(other.messageId).not.toBe(first.messageId);
    expect(broker.messages('orders').filter((stored) => stored.messageId === first.messageId)).toHaveLength(
      2,
    );
  });
});

describe('routes', () => {
  it('concurrent first sends share one QueryRoute; later sends use the cached route', async () => {
    const before = broker.stats().rpcCalls.QueryRoute ?? 0;
    const transport = leanTransport(broker.endpoint);
    await Promise.all(Array.from({ length: 20 }, () => transport.send(message())));
    expect((broker.stats().rpcCalls.QueryRoute ?? 0) - before).toBe(1);
    for (let i = 0; i < 5; i++) await transport.send(message());
    expect((broker.stats().rpcCalls.QueryRoute ?? 0) - before).toBe(1);
  });

  it('refreshes a route older than 30 s in the background, without making the send wait', async () => {
    const clock = movableClock();
    const transport = new LeanTransport(resolveConfig({ endpoints: broker.endpoint }, {}), quiet, {
      clock: clock.now,
    });
    transports.push(transport);
    await transport.send(message());
    const before = broker.stats().rpcCalls.QueryRoute ?? 0;
    clock.advance(31_000);
    await transport.send(message());
    await vi.waitFor(() => expect((broker.stats().rpcCalls.QueryRoute ?? 0) - before).toBe(1));
    await transport.send(message());
    expect((broker.stats().rpcCalls.QueryRoute ?? 0) - before).toBe(1);
  });

  it('does not cache an unknown topic, and forgets a topic on request', async () => {
    const transport = leanTransport(broker.endpoint);
    await expect(transport.send(message('no-such-topic'))).rejects.toMatchObject({ code: 40402 });
    const before = broker.stats().rpcCalls.QueryRoute ?? 0;
    await expect(transport.send(message('no-such-topic'))).rejects.toMatchObject({ code: 40402 });
    expect((broker.stats().rpcCalls.QueryRoute ?? 0) - before).toBe(1);
    await transport.send(message());
    transport.forgetTopic('orders');
    await transport.send(message());
    expect((broker.stats().rpcCalls.QueryRoute ?? 0) - before).toBe(3);
  });
});

describe('failures say whether the request was written', () => {
  it('connection refused: not written, UNAVAILABLE', async () => {
    const transport = leanTransport('127.0.0.1:1');
    const error = await transport.send(message()).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 14, requestWritten: false });
    expect(classifyError(error, { topic: 'orders' }).code).toBe(ErrorCode.UNAVAILABLE);
  });

  it('a call that reached a broker that never answers: written, DEADLINE_EXCEEDED', async () => {
    const transport = leanTransport(broker.endpoint);
    await transport.send(message());
    broker.faults.blackhole(true);
    try {
      const error = await transport
        .send(message(), { deadline: Date.now() + 200 })
        .catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 4, requestWritten: true });
      expect(classifyError(error, { topic: 'orders' }).code).toBe(ErrorCode.TIMEOUT);
    } finally {
      broker.faults.reset();
    }
  });

  it('a gRPC error status from the broker: written, with code and details', async () => {
    const transport = leanTransport(broker.endpoint);
    await transport.send(message());
    broker.faults.failNextSendsWithGrpc(1, 14);
    await expect(transport.send(message())).rejects.toMatchObject({
      code: 14,
      details: 'injected failure',
      requestWritten: true,
    });
  });
});

describe('credentials', () => {
  it('signs every call; an STS token travels with it', async () => {
    for (const credentials of [
      { accessKeyId: 'AK', accessKeySecret: 'SK' },
      { accessKeyId: 'AK', accessKeySecret: 'SK', securityToken: 'token' },
    ]) {
      const transport = leanTransport(signed.endpoint, { credentials });
      await expect(transport.send(message())).resolves.toMatchObject({ messageId: expect.any(String) });
    }
    const wrong = leanTransport(signed.endpoint, {
      credentials: { accessKeyId: 'AK', accessKeySecret: 'no' },
    });
    await expect(wrong.send(message())).rejects.toMatchObject({ code: 40100 });
  });

  it('signs with new credentials once the producer swaps them (rotated STS credentials)', async () => {
    const producer = createProducer({
      endpoints: signed.endpoint,
      transport: 'lean',
      credentials: { accessKeyId: 'AK', accessKeySecret: 'wrong' },
    });
    producers.push(producer);
    await expect(producer.send({ topic: 'orders', body: 'x' })).rejects.toMatchObject({
      code: ErrorCode.UNAUTHORIZED,
    });
    expect(
      producer.updateCredentials({ accessKeyId: 'AK', accessKeySecret: 'SK', securityToken: 't2' }),
    ).toBe(true);
    await expect(producer.send({ topic: 'orders', body: 'x' })).resolves.toMatchObject({ attempts: 1 });
  });

  it('sends the same request metadata as the official client', async () => {
    // A fake server (not a broker): records each call's headers and answers UNIMPLEMENTED.
    const seen: IncomingHttpHeaders[] = [];
    const server = createServer();
    server.on('stream', (stream, headers) => {
      seen.push(headers);
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12' },
        { endStream: true },
      );
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const endpoint = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const options = {
      endpoints: endpoint,
      namespace: 'ns',
      credentials: { accessKeyId: 'AK', accessKeySecret: 'SK', securityToken: 'token' },
    };
    const lean = new LeanTransport(resolveConfig(options, {}), quiet);
    const official = new OfficialTransport(resolveConfig(options, {}), quiet);
    try {
      await expect(lean.send(message())).rejects.toMatchObject({ code: 12 });
      const leanHeaders = seen.splice(0);
      await expect(official.send(message())).rejects.toMatchObject({ code: 12 });
      const officialHeaders = seen.filter((headers) => headers[':path']?.endsWith('/QueryRoute'));
      const mq = (headers: IncomingHttpHeaders | undefined) =>
        Object.keys(headers ?? {})
          .filter((key) => key.startsWith('x-mq-') || key === 'authorization' || key === 'grpc-timeout')
          .sort();
      expect(leanHeaders[0]?.[':path']).toBe('/apache.rocketmq.v2.MessagingService/QueryRoute');
      expect(mq(leanHeaders[0])).toEqual(mq(officialHeaders[0]));
      const lh = leanHeaders[0] ?? {};
      const signature = createHmac('sha1', 'SK')
        .update(String(lh['x-mq-date-time']))
        .digest('hex')
        .toUpperCase();
      expect(lh.authorization).toBe(
        `MQv2-HMAC-SHA1 Credential=AK, SignedHeaders=x-mq-date-time, Signature=${signature}`,
      );
      for (const key of [
        'x-mq-protocol',
        'x-mq-language',
        'x-mq-namespace',
        'x-mq-session-token',
        'x-mq-client-version',
      ]) {
        expect(lh[key], key).toBe(officialHeaders[0]?.[key]);
      }
      expect(lh['content-type']).toBe('application/grpc');
      expect(lh.te).toBe('trailers');
    } finally {
      await Promise.all([lean.close(), official.close()]);
      server.close();
    }
  });
});

describe('lifecycle', () => {
  it('close() ends the sessions; a send afterwards fails as on a closed producer', async () => {
    const transport = leanTransport(broker.endpoint);
    await transport.send(message());
    await transport.close();
    const error = await transport.send(message()).catch((caught: unknown) => caught);
    expect(classifyError(error, { topic: 'orders' }).code).toBe(ErrorCode.PRODUCER_CLOSED);
  });

  it('close() with a call in flight to a peer that never answers ends within its grace', async () => {
    // A fake peer (not a broker): accepts TCP connections and never says a word.
    const sockets = new Set<Socket>();
    const silent = createTcpServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const transport = new LeanTransport(
      resolveConfig({ endpoints: `127.0.0.1:${(silent.address() as AddressInfo).port}` }, {}),
      quiet,
    );
    try {
      const first = transport
        .send(message(), { deadline: Date.now() + 20_000 })
        .catch((error: unknown) => error);
      transport.reset(transport.generation, true);
      const second = transport
        .send(message(), { deadline: Date.now() + 20_000 })
        .catch((error: unknown) => error);
      const started = Date.now();
      await transport.close();
      expect(Date.now() - started).toBeLessThan(10_000);
      for (const failed of await Promise.all([first, second])) {
        expect(classifyError(failed, { topic: 'orders' }).code).toBe(ErrorCode.UNAVAILABLE);
      }
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it('an idle session keeps no process alive: a script that sends and never shuts down exits', async () => {
    const run = await runTs(
      'test/transport/send-and-leave.ts',
      [],
      { ROCKETMQ_ENDPOINTS: broker.endpoint },
      {
        timeoutMs: 20_000,
      },
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^sent [0-9A-F]{34}\n$/);
  });
});
