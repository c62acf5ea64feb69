import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import {
  BadRequestException,
  NotFoundException,
  PublishingLoadBalancer,
  TopicRouteData,
  UnauthorizedException,
} from 'rocketmq-client-nodejs';
import definition from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import service from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import { describe, expect, it } from 'vitest';
import { leanProtoIsCurrent } from '../../../infra/build/lean-proto.js';
import { resolveConfig } from '../../../lib/entries/advanced.js';
import { ConfigError, ErrorCode } from '../../../lib/index.js';
import { classifyError } from '../../../lib/producer/classify.js';
import { BrokerStatusError, GrpcCallError, markRequestWritten } from '../../../lib/transport/errors.js';
import { RequestMetadata, requestDateTime } from '../../../lib/transport/lean/metadata.js';
import {
  int64ToNumber,
  QueryRouteRequestType,
  QueryRouteResponseType,
  SendMessageRequestType,
  SendMessageResponseType,
} from '../../../lib/transport/lean/proto.js';
import { PublishingRoute } from '../../../lib/transport/lean/route.js';

/** A decoded message as a plain object: the fields it carries, without the prototype's defaults. */
const plain = (value: unknown) => JSON.parse(JSON.stringify(value));

describe('lean protobuf descriptor', () => {
  it('is what infra/build/lean-proto.ts generates from the .proto files the client ships', async () => {
    expect(await leanProtoIsCurrent()).toEqual({ descriptor: true, messages: true });
  });

  it('encodes a SendMessageRequest that the generated google-protobuf classes read field for field', () => {
    const arbitrary = fc.record({
      topic: fc.stringMatching(/^[a-zA-Z0-9_-]{1,20}$/),
      namespace: fc.string({ maxLength: 8 }),
      tag: fc.option(fc.string({ minLength: 1, maxLength: 10 }), { nil: undefined }),
      keys: fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }),
      group: fc.option(fc.string({ minLength: 1, maxLength: 10 }), { nil: undefined }),
      delivery: fc.option(fc.integer({ min: 1_600_000_000_000, max: 2_000_000_000_000 }), { nil: undefined }),
      born: fc.integer({ min: 1_600_000_000_000, max: 2_000_000_000_000 }),
      properties: fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), fc.string({ maxLength: 12 }), {
        maxKeys: 4,
      }),
      body: fc.uint8Array({ maxLength: 64 }),
      queueId: fc.integer({ min: 0, max: 16 }),
    });
    fc.assert(
      fc.property(arbitrary, (m) => {
        const bytes = SendMessageRequestType.encode({
          messages: [
            {
              topic: { name: m.topic, resourceNamespace: m.namespace },
              userProperties: m.properties,
              systemProperties: {
                keys: m.keys,
                messageId: '01ABCDEF',
                bornTimestamp: { seconds: Math.floor(m.born / 1000), nanos: (m.born % 1000) * 1e6 },
                bornHost: 'host',
                bodyEncoding: 1,
                queueId: m.queueId,
                messageType: m.group ? 2 : m.delivery ? 3 : 1,
                ...(m.tag && { tag: m.tag }),
                ...(m.group && { messageGroup: m.group }),
                ...(m.delivery && {
                  deliveryTimestamp: {
                    seconds: Math.floor(m.delivery / 1000),
                    nanos: (m.delivery % 1000) * 1e6,
                  },
                }),
              },
              body: m.body,
            },
          ],
        }).finish();
        const decoded = service.SendMessageRequest.deserializeBinary(bytes).getMessagesList()[0];
        expect(decoded).toBeDefined();
        const system = decoded?.getSystemProperties();
        expect(decoded?.getTopic()?.getName()).toBe(m.topic);
        expect(decoded?.getTopic()?.getResourceNamespace()).toBe(m.namespace);
        expect(Buffer.from(decoded?.getBody_asU8() ?? [])).toEqual(Buffer.from(m.body));
        expect(Object.fromEntries(decoded?.getUserPropertiesMap().entries() ?? [])).toEqual(m.properties);
        expect(system?.getKeysList()).toEqual(m.keys);
        expect(system?.getTag()).toBe(m.tag ?? '');
        expect(system?.getMessageGroup()).toBe(m.group ?? '');
        expect(system?.getQueueId()).toBe(m.queueId);
        expect(system?.getMessageId()).toBe('01ABCDEF');
        expect(system?.getBodyEncoding()).toBe(definition.Encoding.IDENTITY);
        expect(system?.getBornTimestamp()?.toDate().getTime()).toBe(m.born);
        if (m.delivery) expect(system?.getDeliveryTimestamp()?.toDate().getTime()).toBe(m.delivery);
        else expect(system?.hasDeliveryTimestamp()).toBe(false);
      }),
      { numRuns: 100 },
    );
  });

  it('reads SendMessageResponse and QueryRouteResponse as the generated classes write them', () => {
    const response = new service.SendMessageResponse()
      .setStatus(new definition.Status().setCode(definition.Code.OK).setMessage('OK'))
      .setEntriesList([
        new service.SendResultEntry()
          .setStatus(new definition.Status().setCode(definition.Code.OK))
          .setMessageId('01AA')
          .setOffset(2 ** 40 + 7)
          .setTransactionId('tx'),
      ]);
    const send = SendMessageResponseType.decode(response.serializeBinary()) as unknown as {
      status: { code: number; message: string };
      entries: { messageId: string; offset: number; transactionId: string }[];
    };
    expect(send.status).toMatchObject({ code: 20000, message: 'OK' });
    expect(send.entries[0]?.messageId).toBe('01AA');
    expect(int64ToNumber(send.entries[0]?.offset)).toBe(2 ** 40 + 7);

    const queue = new definition.MessageQueue()
      .setTopic(new definition.Resource().setName('orders'))
      .setId(0)
      .setPermission(definition.Permission.READ_WRITE)
      .setAcceptMessageTypesList([definition.MessageType.NORMAL, definition.MessageType.FIFO])
      .setBroker(
        new definition.Broker()
          .setName('b')
          .setEndpoints(
            new definition.Endpoints()
              .setScheme(definition.AddressScheme.IPV4)
              .setAddressesList([new definition.Address().setHost('10.0.0.1').setPort(8081)]),
          ),
      );
    const route = QueryRouteResponseType.decode(
      new service.QueryRouteResponse()
        .setStatus(new definition.Status().setCode(definition.Code.OK))
        .setMessageQueuesList([queue])
        .serializeBinary(),
    );
    expect(plain(route)).toEqual({
      status: { code: 20000 },
      messageQueues: [
        {
          topic: { name: 'orders' },
          permission: definition.Permission.READ_WRITE,
          acceptMessageTypes: [1, 2],
          broker: {
            name: 'b',
            endpoints: { scheme: 1, addresses: [{ host: '10.0.0.1', port: 8081 }] },
          },
        },
      ],
    });

    const request = service.QueryRouteRequest.deserializeBinary(
      QueryRouteRequestType.encode({
        topic: { name: 'orders', resourceNamespace: 'ns' },
        endpoints: { scheme: 3, addresses: [{ host: 'mq.example', port: 8080 }] },
      }).finish(),
    );
    expect(request.toObject()).toEqual({
      topic: { name: 'orders', resourceNamespace: 'ns' },
      endpoints: { scheme: 3, addressesList: [{ host: 'mq.example', port: 8080 }] },
    });
  });
});

describe('lean request metadata', () => {
  it('formats the date-time like the official client and signs it with HMAC-SHA1, hex upper case', () => {
    expect(requestDateTime(Date.UTC(2026, 0, 2, 3, 4, 5, 678))).toBe('20260102T030405Z');
    const metadata = new RequestMetadata('ns-1', {
      accessKeyId: 'AK',
      accessKeySecret: 'SK',
      securityToken: 'STS',
    });
    const headers = metadata.headers(Date.UTC(2026, 0, 2, 3, 4, 5));
    const expected = createHmac('sha1', 'SK').update('20260102T030405Z').digest('hex').toUpperCase();
    expect(headers).toMatchObject({
      'x-mq-protocol': 'v2',
      'x-mq-date-time': '20260102T030405Z',
      'x-mq-language': 'HTTP',
      'x-mq-namespace': 'ns-1',
      'x-mq-session-token': 'STS',
      authorization: `MQv2-HMAC-SHA1 Credential=AK, SignedHeaders=x-mq-date-time, Signature=${expected}`,
    });
    expect(headers['x-mq-client-id']).toMatch(/^.+@\d+@\d+@[0-9a-z]+$/);
    expect(headers['x-mq-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(metadata.headers(Date.UTC(2026, 0, 2, 3, 4, 5, 900))['x-mq-request-id']).not.toBe(
      headers['x-mq-request-id'],
    );
  });

  it('sends neither namespace, token nor authorization when there are none', () => {
    const headers = new RequestMetadata('', undefined).headers(Date.now());
    expect(Object.keys(headers).sort()).toEqual([
      'x-mq-client-id',
      'x-mq-client-version',
      'x-mq-date-time',
      'x-mq-language',
      'x-mq-protocol',
      'x-mq-request-id',
    ]);
  });
});

function pbQueue(id: number, permission: number, broker: string, port: number) {
  return new definition.MessageQueue()
    .setTopic(new definition.Resource().setName('orders'))
    .setId(id)
    .setPermission(permission)
    .setAcceptMessageTypesList([definition.MessageType.NORMAL, definition.MessageType.FIFO])
    .setBroker(
      new definition.Broker()
        .setName(broker)
        .setEndpoints(
          new definition.Endpoints()
            .setScheme(definition.AddressScheme.IPV4)
            .setAddressesList([new definition.Address().setHost('127.0.0.1').setPort(port)]),
        ),
    );
}

describe('lean queue selection', () => {
  const { READ, WRITE, READ_WRITE } = definition.Permission;
  const queues = [
    pbQueue(0, READ_WRITE, 'a', 1),
    pbQueue(1, READ_WRITE, 'a', 1),
    pbQueue(0, READ, 'b', 2),
    pbQueue(0, WRITE, 'c', 3),
    pbQueue(0, READ_WRITE, 'd', 4),
  ];
  const lean = new PublishingRoute(
    queues.map(
      (queue) =>
        plain(
          QueryRouteResponseType.decode(
            new service.QueryRouteResponse().setMessageQueuesList([queue]).serializeBinary(),
          ),
        ).messageQueues[0],
    ),
    0,
  );
  const official = new PublishingLoadBalancer(new TopicRouteData(queues), 0);

  it('goes round robin over the writable queues of id 0, in the official client order', () => {
    const ours = Array.from({ length: 6 }, () => lean.next().authority);
    const theirs = Array.from({ length: 6 }, () => {
      const [queue] = official.takeMessageQueues(new Map(), 1);
      return queue?.broker.endpoints.facade;
    });
    expect(ours).toEqual([
      '127.0.0.1:1',
      '127.0.0.1:3',
      '127.0.0.1:4',
      '127.0.0.1:1',
      '127.0.0.1:3',
      '127.0.0.1:4',
    ]);
    expect(ours).toEqual(theirs);
  });

  it('sends a message group to the queue the official client picks for it', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 32 }), (group) => {
        expect(lean.byMessageGroup(group).authority).toBe(
          official.takeMessageQueueByMessageGroup(group).broker.endpoints.facade,
        );
      }),
      { numRuns: 200 },
    );
  });
});

describe('lean errors classify like the official client errors', () => {
  const ctx = { topic: 'orders' };
  const same = (lean: unknown, official: unknown) => {
    const ours = classifyError(lean, ctx);
    const theirs = classifyError(official, ctx);
    expect({
      code: ours.code,
      status: ours.status,
      retryable: ours.retryable,
      message: ours.message,
    }).toEqual({
      code: theirs.code,
      status: theirs.status,
      retryable: theirs.retryable,
      message: theirs.message,
    });
  };

  it.each([
    [40402, 'No topic route info in name server for the topic: nope', NotFoundException],
    [40100, 'signature mismatch', UnauthorizedException],
    [40014, 'TopicMessageType validate failed', BadRequestException],
  ])('broker status %i', (code, message, Exception) => {
    same(new BrokerStatusError(code, message), new Exception(code, message));
  });

  it('gRPC failures carry code and details like grpc-js errors', () => {
    const grpcJs = (code: number, details: string) =>
      Object.assign(new Error(`${code} X: ${details}`), { code, details, metadata: {} });
    for (const code of [1, 4, 8, 13, 14]) same(new GrpcCallError(code, 'boom', true), grpcJs(code, 'boom'));
    expect(classifyError(new GrpcCallError(14, 'refused', false), ctx).code).toBe(ErrorCode.UNAVAILABLE);
  });

  it('marks official client errors with whether the request was written', () => {
    const refused = Object.assign(new Error('14 UNAVAILABLE'), {
      code: 14,
      details: 'No connection established. Last error: connect ECONNREFUSED 127.0.0.1:1',
    });
    expect(markRequestWritten(refused)).toMatchObject({ requestWritten: false });
    const cut = Object.assign(new Error('14 UNAVAILABLE'), { code: 14, details: 'Connection dropped' });
    expect(markRequestWritten(cut)).toMatchObject({ requestWritten: true });
    expect(markRequestWritten(new NotFoundException(40402, 'x'))).toMatchObject({ requestWritten: true });
    expect(markRequestWritten(new TypeError('Message body size exceeds'))).toMatchObject({
      requestWritten: false,
    });
  });
});

describe('transport choice', () => {
  const endpoints = '127.0.0.1:8081';
  it('is taken from the option, then ROCKETMQ_TRANSPORT', () => {
    expect(
      resolveConfig({ endpoints, transport: 'lean' }, { ROCKETMQ_TRANSPORT: 'official' }).transport,
    ).toBe('lean');
    expect(resolveConfig({ endpoints }, { ROCKETMQ_TRANSPORT: 'official' }).transport).toBe('official');
    expect(resolveConfig({ endpoints }, { ROCKETMQ_TRANSPORT: 'lean' }).transport).toBe('lean');
  });

  it('rejects anything else, naming where it came from', () => {
    expect(() => resolveConfig({ endpoints }, { ROCKETMQ_TRANSPORT: 'grpc' })).toThrow(ConfigError);
    expect(() => resolveConfig({ endpoints }, { ROCKETMQ_TRANSPORT: 'grpc' })).toThrow(/ROCKETMQ_TRANSPORT/);
    expect(() => resolveConfig({ endpoints, transport: 'x' as 'lean' }, {})).toThrow(/transport must be/);
  });
});
