import definitionPb, { type Message } from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import servicePb, {
  type SendMessageResponse,
} from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type LocalBroker, startLocalBroker } from '../../infra/local-broker/index.js';
import {
  clientMetadata,
  failureCode,
  message,
  rawClient,
  shutDownClientsAfterEach,
  startProducer,
  unary,
} from './support.js';

const { MessageType } = definitionPb;

let broker: LocalBroker;
beforeAll(async () => {
  broker = await startLocalBroker();
});
afterAll(() => broker.stop());
shutDownClientsAfterEach();

let sequence = 0;
function rawMessage(
  topic: string,
  type: number,
  edit: (properties: definitionPb.SystemProperties) => void = () => {},
) {
  sequence++;
  const properties = new definitionPb.SystemProperties()
    .setMessageId(`01000000000000000000000000${sequence.toString(16).padStart(8, '0').toUpperCase()}`)
    .setMessageType(type)
    .setBornHost('test');
  edit(properties);
  return new definitionPb.Message()
    .setTopic(new definitionPb.Resource().setName(topic))
    .setSystemProperties(properties)
    .setBody(Buffer.from(`raw ${sequence}`));
}

function rawSend(target: LocalBroker, ...messages: Message[]): Promise<SendMessageResponse> {
  const client = rawClient(target);
  const request = new servicePb.SendMessageRequest().setMessagesList(messages);
  return unary((done) => client.sendMessage(request, clientMetadata(), done));
}

describe('SendMessage status codes', () => {
  it('answers 40402 for an unknown topic, without retrying', async () => {
    const producer = await startProducer(broker);
    const before = broker.stats().sendMessageCalls;
    const sending = producer.send(message('no-such-topic', 'x'));
    await expect(sending).rejects.toThrow(/No topic route info in name server for the topic: no-such-topic/);
    expect(await failureCode(sending)).toBe(40402);
    expect(broker.stats().sendMessageCalls).toBe(before);

    const response = await rawSend(broker, rawMessage('no-such-topic', MessageType.NORMAL));
    expect(response.getStatus()?.toObject()).toEqual({
      code: 40402,
      message: 'No topic route info in name server for the topic: no-such-topic',
    });
  });

  it('rejects a type mismatch in the client while validate_message_type is on', async () => {
    const producer = await startProducer(broker, { topics: ['orders'] });
    await expect(producer.send(message('orders', 'x', { messageGroup: 'g' }))).rejects.toThrow(TypeError);
  });

  it('answers 40014 with the proxy message when the client does not validate', async () => {
    const lenient = await startLocalBroker({ validateMessageType: false });
    try {
      const producer = await startProducer(lenient, { topics: ['orders'], maxAttempts: 1 });
      const sending = producer.send(message('orders', 'x', { messageGroup: 'g' }));
      await expect(sending).rejects.toThrow(
        'TopicMessageType validate failed, the expected type is NORMAL, but actual type is FIFO',
      );
      expect(await failureCode(sending)).toBe(40014);
      expect(lenient.stats()).toMatchObject({ sendMessageCalls: 1, rejectedSends: 1, storedMessages: 0 });
    } finally {
      await lenient.stop();
    }
  });

  it('answers 41301 for a body over maxBodySize and tells clients the limit', async () => {
    const small = await startLocalBroker({ maxBodySize: 1024 });
    try {
      // Without topics the producer sends before it has the broker's settings, so it uses its 4 MiB default.
      const producer = await startProducer(small, { maxAttempts: 1 });
      expect(await failureCode(producer.send(message('orders', 'x'.repeat(2048))))).toBe(41301);
      await producer.send(message('orders', 'x'.repeat(1024)));
      // Once the settings arrived the client checks the limit itself.
      await vi.waitFor(() => expect(producer.publishingSettings.maxBodySizeBytes).toBe(1024));
      await expect(producer.send(message('orders', 'x'.repeat(1025)))).rejects.toThrow(
        'Message body size exceeds the threshold, max size=1024 bytes',
      );
      expect(small.messages('orders')).toHaveLength(1);
    } finally {
      await small.stop();
    }
  });

  it('accepts an empty body and a 4 MiB - 1 KiB body by default', async () => {
    const producer = await startProducer(broker, { topics: ['logs'] });
    await producer.send(message('logs', ''));
    await producer.send({ topic: 'logs', body: Buffer.alloc(4 * 1024 * 1024 - 1024, 7) });
    expect(broker.messages('logs').map((stored) => stored.body.length)).toEqual([0, 4 * 1024 * 1024 - 1024]);
  });

  it('answers 40004 for a tag containing ||', async () => {
    const producer = await startProducer(broker, { maxAttempts: 1 });
    expect(await failureCode(producer.send(message('orders', 'x', { tag: 'a||b' })))).toBe(40004);
  });

  it('answers 40009, 40012 and 40006 for what the client itself never sends', async () => {
    const code = async (response: Promise<SendMessageResponse>) => (await response).getStatus()?.getCode();
    expect(
      await code(
        rawSend(
          broker,
          rawMessage('orders', MessageType.NORMAL, (p) => p.setMessageId('')),
        ),
      ),
    ).toBe(40009);
    expect(await code(rawSend(broker, rawMessage('delay-topic', MessageType.DELAY)))).toBe(40012);
    expect(await code(rawSend(broker, rawMessage('fifo-topic', MessageType.FIFO)))).toBe(40006);
    expect(await code(rawSend(broker, rawMessage('bad topic', MessageType.NORMAL)))).toBe(40002);
  });
});

describe('SendMessage with several messages', () => {
  it('stores every message under its own id but answers with one entry, like the proxy', async () => {
    const batch = [1, 2, 3].map(() => rawMessage('object-events', MessageType.NORMAL));
    const response = await rawSend(broker, ...batch);
    expect(response.getStatus()?.getCode()).toBe(definitionPb.Code.OK);
    const ids = batch.map((entry) => entry.getSystemProperties()?.getMessageId());
    expect(response.getEntriesList().map((entry) => entry.getMessageId())).toEqual([ids[0]]);
    expect(broker.messages('object-events').map((stored) => stored.messageId)).toEqual(ids);
  });

  it('answers one entry per message with batchReply per-message', async () => {
    const perMessage = await startLocalBroker({ batchReply: 'per-message' });
    try {
      const batch = [1, 2, 3].map(() => rawMessage('object-events', MessageType.NORMAL));
      const response = await rawSend(perMessage, ...batch);
      expect(response.getEntriesList().map((entry) => [entry.getMessageId(), entry.getOffset()])).toEqual(
        batch.map((entry, offset) => [entry.getSystemProperties()?.getMessageId(), offset]),
      );
    } finally {
      await perMessage.stop();
    }
  });

  it('rejects the whole request when one message is invalid', async () => {
    const before = broker.messages('object-events').length;
    const response = await rawSend(
      broker,
      rawMessage('object-events', MessageType.NORMAL),
      rawMessage('object-events', MessageType.NORMAL, (p) => p.setTag('x||y')),
    );
    expect(response.getStatus()?.getCode()).toBe(40004);
    expect(broker.messages('object-events')).toHaveLength(before);
  });
});
