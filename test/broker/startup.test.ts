import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import definitionPb from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import servicePb, {
  type QueryRouteResponse,
} from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTopics, startLocalBroker } from '../../infra/local-broker/index.js';
import { useBroker } from '../support/broker-fixture.js';
import {
  clientMetadata,
  rawClient,
  shutDownClientsAfterEach,
  startConsumer,
  startProducer,
  stopClient,
  unary,
} from './support.js';

const { MessageType, Permission } = definitionPb;

const fixture = useBroker();
shutDownClientsAfterEach();

function queryRoute(topic: string, dialledHost: string): Promise<QueryRouteResponse> {
  const request = new servicePb.QueryRouteRequest()
    .setTopic(new definitionPb.Resource().setName(topic))
    .setEndpoints(
      new definitionPb.Endpoints()
        .setScheme(definitionPb.AddressScheme.DOMAIN_NAME)
        .setAddressesList([new definitionPb.Address().setHost(dialledHost).setPort(fixture.broker.port)]),
    );
  const client = rawClient(fixture.broker);
  return unary((done) => client.queryRoute(request, clientMetadata(), done));
}

describe('startup', () => {
  it('loads the default topics file', () => {
    expect(Object.fromEntries(fixture.broker.topics)).toEqual({
      orders: 'NORMAL',
      'orders-retry': 'NORMAL',
      'orders-dlq': 'NORMAL',
      shipments: 'NORMAL',
      'object-events': 'NORMAL',
      metrics: 'NORMAL',
      logs: 'NORMAL',
      'fifo-topic': 'FIFO',
      'delay-topic': 'DELAY',
      'tx-topic': 'TRANSACTION',
      'mixed-topic': 'MIXED',
    });
    expect(fixture.broker.endpoint).toBe(`127.0.0.1:${fixture.broker.port}`);
  });

  it('starts producers with several topics ten times in a row (settings race)', async () => {
    const topics = ['orders', 'object-events', 'metrics', 'logs', 'fifo-topic', 'delay-topic'];
    for (let round = 0; round < 10; round++) {
      const producer = await startProducer(fixture.broker, { topics });
      await stopClient(producer);
    }
    expect(fixture.broker.stats().rpcCalls.QueryRoute).toBeGreaterThanOrEqual(60);
  });

  it('starts a producer with several topics while every response is slow', async () => {
    fixture.broker.faults.delayMs = 200;
    try {
      const producer = await startProducer(fixture.broker, {
        topics: ['orders', 'metrics', 'logs', 'fifo-topic'],
      });
      await stopClient(producer);
    } finally {
      fixture.broker.faults.reset();
    }
  });

  it('starts a simple consumer subscribed to several topics', async () => {
    const consumer = await startConsumer(fixture.broker, 'startup-group', {
      orders: '*',
      'fifo-topic': '*',
      logs: '*',
    });
    await expect(consumer.receive(1, 10_000)).resolves.toEqual([]);
  });
});

describe('QueryRoute', () => {
  it('points the route back at the address the client dialled, with the 8 queues of a default topic', async () => {
    const response = await queryRoute('orders', 'localhost');
    expect(response.getStatus()?.getCode()).toBe(definitionPb.Code.OK);
    const queues = response.getMessageQueuesList();
    expect(queues.map((entry) => entry.getId())).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const [queue] = queues;
    expect(queue?.getId()).toBe(0);
    expect(queue?.getPermission()).toBe(Permission.READ_WRITE);
    expect(queue?.getBroker()?.getEndpoints()?.toObject().addressesList).toEqual([
      { host: 'localhost', port: fixture.broker.port },
    ]);
    expect(queue?.getAcceptMessageTypesList()).toEqual([MessageType.NORMAL]);
  });

  it('accepts the message types of the topic type, all four for MIXED', async () => {
    const accepted = async (topic: string) =>
      (await queryRoute(topic, '127.0.0.1')).getMessageQueuesList()[0]?.getAcceptMessageTypesList();
    expect(await accepted('fifo-topic')).toEqual([MessageType.FIFO]);
    expect(await accepted('delay-topic')).toEqual([MessageType.DELAY]);
    expect(await accepted('tx-topic')).toEqual([MessageType.TRANSACTION]);
    expect(await accepted('mixed-topic')).toEqual([
      MessageType.NORMAL,
      MessageType.FIFO,
      MessageType.DELAY,
      MessageType.TRANSACTION,
    ]);
  });

  it('answers 40402 for an unknown topic', async () => {
    const status = (await queryRoute('no-such-topic', '127.0.0.1')).getStatus();
    expect(status?.getCode()).toBe(40402);
    expect(status?.getMessage()).toBe('No topic route info in name server for the topic: no-such-topic');
  });
});

describe('RPCs the broker does not serve', () => {
  it('answers them with gRPC UNIMPLEMENTED', async () => {
    const client = rawClient(fixture.broker);
    const code = (promise: Promise<unknown>) =>
      promise.then(
        () => 'answered',
        (error: { code?: number }) => error.code,
      );
    expect(
      await code(
        unary((done) => client.updateOffset(new servicePb.UpdateOffsetRequest(), clientMetadata(), done)),
      ),
    ).toBe(status.UNIMPLEMENTED);
    expect(
      await code(
        unary((done) => client.queryOffset(new servicePb.QueryOffsetRequest(), clientMetadata(), done)),
      ),
    ).toBe(status.UNIMPLEMENTED);
    const pull = client.pullMessage(new servicePb.PullMessageRequest(), clientMetadata());
    expect(
      await code(new Promise((resolve, reject) => pull.on('error', reject).on('end', resolve).resume())),
    ).toBe(status.UNIMPLEMENTED);
  });
});

describe('topics and options', () => {
  const directory = mkdtempSync(join(tmpdir(), 'broker-topics-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));
  const write = (name: string, content: string) => {
    const path = join(directory, name);
    writeFileSync(path, content);
    return path;
  };

  it('loads a topics file and names the bad entry of an invalid one', () => {
    expect(loadTopics(write('good.json', '{"a": "FIFO", "%RETRY%b": "NORMAL"}'))).toEqual(
      new Map([
        ['a', 'FIFO'],
        ['%RETRY%b', 'NORMAL'],
      ]),
    );
    expect(() => loadTopics(write('type.json', '{"orders": "NORMAL", "bad": "QUEUE"}'))).toThrow(
      /topic "bad" has type "QUEUE"; expected one of NORMAL, FIFO, DELAY, TRANSACTION, MIXED/,
    );
    expect(() => loadTopics(write('name.json', '{"has space": "NORMAL"}'))).toThrow(/topic "has space"/);
    expect(() => loadTopics(write('long.json', `{"${'x'.repeat(128)}": "NORMAL"}`))).toThrow(/invalid name/);
    expect(() => loadTopics(write('array.json', '["orders"]'))).toThrow(/expected an object/);
    expect(() => loadTopics(write('broken.json', '{'))).toThrow(/not valid JSON/);
    expect(() => loadTopics(join(directory, 'missing.json'))).toThrow(/Cannot read topics file/);
  });

  it('rejects unknown and invalid options before listening', async () => {
    await expect(startLocalBroker({ prot: 1 } as never)).rejects.toThrow(
      /Unknown local broker option\(s\): prot/,
    );
    await expect(startLocalBroker({ maxBodySize: 0 })).rejects.toThrow(
      /maxBodySize must be an integer from 1 up, got 0/,
    );
    await expect(startLocalBroker({ topics: { orders: 'nope' as never } })).rejects.toThrow(/options.topics/);
    await expect(startLocalBroker({ batchReply: 'single' } as never)).rejects.toThrow(
      'Unknown local broker option(s): batchReply',
    );
    await expect(startLocalBroker({ proxyMode: 'mixed' as never })).rejects.toThrow(
      "proxyMode must be 'cluster' or 'local', got mixed",
    );
    await expect(startLocalBroker({ newGroupStart: 'end' as never })).rejects.toThrow(/newGroupStart/);
    await expect(startLocalBroker({ queuesPerTopic: 0 })).rejects.toThrow(/queuesPerTopic/);
    await expect(startLocalBroker({ port: 70_000 })).rejects.toThrow(
      'port must be an integer from 0 to 65535',
    );
    await expect(startLocalBroker({ credentials: {} })).rejects.toThrow(/credentials must map/);
  });

  it('fails clearly when the port is taken', async () => {
    await expect(startLocalBroker({ port: fixture.broker.port })).rejects.toThrow(/EADDRINUSE/);
  });
});
