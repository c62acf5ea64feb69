import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import definition from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import service from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../lib/entries/advanced.js';
import { ErrorCode, validateMessage } from '../../lib/index.js';
import { classifyError } from '../../lib/producer/classify.js';
import { LeanTransport } from '../../lib/transport/index.js';
import { runTs } from '../deploy/support/run-cli.js';

/**
 * ROCKETMQ_SSL: the lean transport speaks gRPC over TLS and verifies the broker's certificate. The
 * embedded broker has no TLS, so a fake broker (named as such) answers QueryRoute and SendMessage over
 * a TLS HTTP/2 server with a certificate made for this test.
 */

const run = promisify(execFile);
const quiet = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} };

let dir: string;
let certFile: string;
let server: Http2SecureServer;
let endpoint: string;
const calls: { path: string; tls: boolean }[] = [];

function grpcAnswer(message: { serializeBinary(): Uint8Array }): Buffer {
  const bytes = message.serializeBinary();
  const framed = Buffer.alloc(5 + bytes.length);
  framed.writeUInt32BE(bytes.length, 1);
  framed.set(bytes, 5);
  return framed;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lean-tls-'));
  certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-days',
    '1',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ]);
  server = createSecureServer({ key: await readFile(keyFile), cert: await readFile(certFile) });
  server.on('stream', (stream, headers) => {
    const path = String(headers[':path']);
    calls.push({
      path,
      tls: (stream.session?.socket as { encrypted?: boolean } | undefined)?.encrypted === true,
    });
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      const body = Buffer.concat(chunks).subarray(5);
      const ok = new definition.Status().setCode(definition.Code.OK).setMessage('OK');
      let answer: Buffer;
      if (path.endsWith('/QueryRoute')) {
        const { port } = server.address() as AddressInfo;
        const queue = new definition.MessageQueue()
          .setTopic(new definition.Resource().setName('orders'))
          .setId(0)
          .setPermission(definition.Permission.READ_WRITE)
          .setAcceptMessageTypesList([definition.MessageType.NORMAL])
          .setBroker(
            new definition.Broker()
              .setName('fake')
              .setEndpoints(
                new definition.Endpoints()
                  .setScheme(definition.AddressScheme.IPV4)
                  .setAddressesList([new definition.Address().setHost('127.0.0.1').setPort(port)]),
              ),
          );
        answer = grpcAnswer(new service.QueryRouteResponse().setStatus(ok).setMessageQueuesList([queue]));
      } else {
        const sent = service.SendMessageRequest.deserializeBinary(body).getMessagesList()[0];
        const id = sent?.getSystemProperties()?.getMessageId() ?? '';
        answer = grpcAnswer(
          new service.SendMessageResponse()
            .setStatus(ok)
            .setEntriesList([new service.SendResultEntry().setStatus(ok).setMessageId(id).setOffset(7)]),
        );
      }
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(answer);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  endpoint = `127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 30_000);

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

describe('lean transport over TLS', () => {
  it('refuses a broker whose certificate it cannot verify', async () => {
    const transport = new LeanTransport(resolveConfig({ endpoints: endpoint, ssl: true }, {}), quiet);
    try {
      const error = await transport
        .send(validateMessage({ topic: 'orders', body: 'x' }))
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 14, requestWritten: false });
      expect(String((error as { details?: string }).details)).toMatch(/certificate/i);
      expect(classifyError(error, { topic: 'orders' }).code).toBe(ErrorCode.UNAVAILABLE);
    } finally {
      await transport.close();
    }
  });

  it('with ROCKETMQ_SSL and a trusted certificate, routes and sends over TLS', async () => {
    calls.length = 0;
    const child = await runTs(
      'test/transport/send-and-leave.ts',
      [],
      { ROCKETMQ_ENDPOINTS: endpoint, ROCKETMQ_SSL: 'true', NODE_EXTRA_CA_CERTS: certFile },
      { timeoutMs: 20_000 },
    );
    expect(child.stderr).toBe('');
    expect(child.stdout).toMatch(/^sent [0-9A-F]{34}\n$/);
    expect(calls.map((call) => call.path.split('/').pop())).toEqual(['QueryRoute', 'SendMessage']);
    expect(calls.every((call) => call.tls)).toBe(true);
  });
});
