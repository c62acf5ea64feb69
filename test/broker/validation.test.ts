import definitionPb, { type Message } from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import servicePb, {
  type SendMessageResponse,
} from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import { describe, expect, it, vi } from 'vitest';
import type { LocalBroker } from '../../infra/local-broker/index.js';
import { useBroker } from '../support/broker-fixture.js';
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

const fixture = useBroker();
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
    const producer = await startProducer(fixture.broker);
    const before = fixture.broker.stats().sendMessageCalls;
    const sending = producer.send(message('no-such-topic', 'x'));
    await expect(sending).rejects.toThrow(/No topic route info in name server for the topic: no-such-topic/);
    expect(await failureCode(sending)).toBe(40402);
    expect(fixture.broker.stats().sendMessageCalls).toBe(before);

    const response = await rawSend(fixture.broker, rawMessage('no-such-topic', MessageType.NORMAL));
    expect(response.getStatus()?.toObject()).toEqual({
      code: 40402,
      message: 'No topic route info in name server for the topic: no-such-topic',
    });
  });

  it('rejects a type mismatch in the client while validate_message_type is on', async () => {
    const producer = await startProducer(fixture.broker, { topics: ['orders'] });
    await expect(producer.send(message('orders', 'x', { messageGroup: 'g' }))).rejects.toThrow(TypeError);
  });

  it('answers 40014 with the proxy message when the client does not validate', async () => {
    const lenient = await fixture.startBroker({ validateMessageType: false });
    const producer = await startProducer(lenient, { topics: ['orders'], maxAttempts: 1 });
    const sending = producer.send(message('orders', 'x', { messageGroup: 'g' }));
    await expect(sending).rejects.toThrow(
      'TopicMessageType validate failed, the expected type is NORMAL, but actual type is FIFO',
    );
    expect(await failureCode(sending)).toBe(40014);
    expect(lenient.stats()).toMatchObject({ sendMessageCalls: 1, rejectedSends: 1, storedMessages: 0 });
  });

  it('answers 41301 for a body over maxBodySize and tells clients the limit', async () => {
    const small = await fixture.startBroker({ maxBodySize: 1024 });
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
  });

  it('answers 41302 for an empty body (acceptEmptyBody turns it off) and accepts 4 MiB - 1 KiB', async () => {
    const producer = await startProducer(fixture.broker, { topics: ['logs'], maxAttempts: 1 });
    const empty = producer.send(message('logs', ''));
    await expect(empty).rejects.toThrow('message body cannot be empty');
    expect(await failureCode(empty)).toBe(41302);
    await producer.send({ topic: 'logs', body: Buffer.alloc(4 * 1024 * 1024 - 1024, 7) });
    expect(fixture.broker.messages('logs').map((stored) => stored.body.length)).toEqual([
      4 * 1024 * 1024 - 1024,
    ]);

    const lenient = await fixture.startBroker({ acceptEmptyBody: true });
    const response = await rawSend(lenient, rawMessage('logs', MessageType.NORMAL).setBody(new Uint8Array()));
    expect(response.getStatus()?.getCode()).toBe(definitionPb.Code.OK);
    expect(lenient.messages('logs').map((stored) => stored.body.length)).toEqual([0]);
  });

  it('answers 40004 for a tag containing |', async () => {
    const producer = await startProducer(fixture.broker, { maxAttempts: 1 });
    expect(await failureCode(producer.send(message('orders', 'x', { tag: 'a||b' })))).toBe(40004);
    expect(await failureCode(producer.send(message('orders', 'x', { tag: 'a|b' })))).toBe(40004);
  });

  it('answers 40009, 40012 and 40006 for what the client itself never sends', async () => {
    const code = async (response: Promise<SendMessageResponse>) => (await response).getStatus()?.getCode();
    expect(
      await code(
        rawSend(
          fixture.broker,
          rawMessage('orders', MessageType.NORMAL, (p) => p.setMessageId('')),
        ),
      ),
    ).toBe(40009);
    expect(await code(rawSend(fixture.broker, rawMessage('delay-topic', MessageType.DELAY)))).toBe(40012);
    expect(await code(rawSend(fixture.broker, rawMessage('fifo-topic', MessageType.FIFO)))).toBe(40006);
    expect(await code(rawSend(fixture.broker, rawMessage('bad topic', MessageType.NORMAL)))).toBe(40002);
  });
});

describe("the proxy's message checks (SendMessageActivity, GrpcValidator)", () => {
  const codeOf = async (edit: (entry: Message) => void, topic = 'orders', type = MessageType.NORMAL) => {
    const entry = rawMessage(topic, type);
    edit(entry);
    return (await rawSend(fixture.broker, entry)).getStatus()?.getCode();
  };
  const system = (entry: Message) => entry.getSystemProperties() as definitionPb.SystemProperties;

  it.each(['\x01', '\n', '\x7f', '\u0085'])(
    'answers 40004 for a tag with control character %j',
    async (c) => {
      expect(await codeOf((entry) => system(entry).setTag(`a${c}b`))).toBe(40004);
    },
  );

  it.each(['\x00', '\x1b', '\u0085'])('answers 40005 for a key with control character %j', async (c) => {
    expect(await codeOf((entry) => system(entry).setKeysList(['ok', `k${c}`]))).toBe(40005);
    expect(await codeOf((entry) => system(entry).setKeysList(['  ']))).toBe(40005);
  });

  it('answers 40007 for a control character in a property key or value and for a system property name', async () => {
    expect(await codeOf((entry) => entry.getUserPropertiesMap().set('a\tb', 'v'))).toBe(40007);
    expect(await codeOf((entry) => entry.getUserPropertiesMap().set('k', 'line\nbreak'))).toBe(40007);
    for (const name of [
      'CLUSTER',
      'MSG_TYPE',
      '__BORNHOST',
      'BORN_TIMESTAMP',
      'DUP_INFO',
      'POP_CK',
      'UNIQ_KEY',
    ]) {
      expect(await codeOf((entry) => entry.getUserPropertiesMap().set(name, 'v'))).toBe(40007);
    }
  });

  it('answers 43101 past 128 user properties or 16 KiB of properties, tag and keys together', async () => {
    const many = (entry: Message) => {
      for (let i = 0; i < 129; i++) entry.getUserPropertiesMap().set(`p${i}`, 'v');
    };
    expect(await codeOf(many)).toBe(43101);
    // 16 KiB of keys alone is over: keys count toward the limit.
    expect(await codeOf((entry) => system(entry).setKeysList(['k'.repeat(16 * 1024 + 1)]))).toBe(43101);
    const exact = (entry: Message) => {
      entry.getUserPropertiesMap().set('p', 'v'.repeat(8 * 1024 - 1 - 3));
      system(entry)
        .setTag('tag')
        .setKeysList(['k'.repeat(8 * 1024)]);
    };
    expect(await codeOf(exact)).toBe(definitionPb.Code.OK);
    const over = (entry: Message) => {
      entry.getUserPropertiesMap().set('p', 'v'.repeat(8 * 1024 - 1 - 3));
      system(entry)
        .setTag('tagX')
        .setKeysList(['k'.repeat(8 * 1024)]);
    };
    expect(await codeOf(over)).toBe(43101);
  });

  it('answers 40006 for a message group of 64 bytes or more (bytes, not characters) or with a control character', async () => {
    const group = (value: string) => (entry: Message) => system(entry).setMessageGroup(value);
    expect(await codeOf(group('g'.repeat(63)), 'fifo-topic', MessageType.FIFO)).toBe(definitionPb.Code.OK);
    expect(await codeOf(group('g'.repeat(64)), 'fifo-topic', MessageType.FIFO)).toBe(40006);
    // 30 CJK characters are 90 bytes in UTF-8.
    expect(await codeOf(group('组'.repeat(30)), 'fifo-topic', MessageType.FIFO)).toBe(40006);
    expect(await codeOf(group('g\x02'), 'fifo-topic', MessageType.FIFO)).toBe(40006);
  });

  it('rejects an empty request with 40016 and messages of different topics with 40016', async () => {
    expect((await rawSend(fixture.broker)).getStatus()?.getCode()).toBe(40016);
    const mixed = await rawSend(
      fixture.broker,
      rawMessage('orders', MessageType.NORMAL),
      rawMessage('metrics', MessageType.NORMAL),
    );
    expect(mixed.getStatus()?.getCode()).toBe(40016);
  });
});

describe('SendMessage with several messages', () => {
  /** Three messages that differ in everything a consumer looks at. */
  function distinctBatch(topic: string) {
    return [0, 1, 2].map((index) => {
      const entry = rawMessage(topic, MessageType.NORMAL, (p) =>
        p.setTag(`Tag${index}`).setKeysList([`KEY_${index}`]),
      );
      entry.getUserPropertiesMap().set('shared', `value-${index}`);
      entry.getUserPropertiesMap().set(`only-${index}`, 'x');
      return entry.setBody(Buffer.from(`body ${index}`));
    });
  }

  it("stores every message with the first message's tag, keys, id and properties, as the proxy does", async () => {
    const before = fixture.broker.messages('object-events').length;
    const batch = distinctBatch('object-events');
    const response = await rawSend(fixture.broker, ...batch);
    expect(response.getStatus()?.getCode()).toBe(definitionPb.Code.OK);
    const firstId = batch[0]?.getSystemProperties()?.getMessageId();
    const stored = fixture.broker.messages('object-events').slice(before);
    expect(
      stored.map((entry) => ({
        id: entry.messageId,
        tag: entry.tag,
        keys: entry.keys,
        properties: entry.properties,
        body: entry.body.toString(),
      })),
    ).toEqual([
      {
        id: firstId,
        tag: 'Tag0',
        keys: ['KEY_0'],
        properties: { shared: 'value-0', 'only-0': 'x' },
        body: 'body 0',
      },
      {
        id: firstId,
        tag: 'Tag0',
        keys: ['KEY_0'],
        properties: { shared: 'value-0', 'only-0': 'x', 'only-1': 'x' },
        body: 'body 1',
      },
      {
        id: firstId,
        tag: 'Tag0',
        keys: ['KEY_0'],
        properties: { shared: 'value-0', 'only-0': 'x', 'only-2': 'x' },
        body: 'body 2',
      },
    ]);
    // One queue for the whole request, consecutive offsets.
    expect(new Set(stored.map((entry) => entry.queueId)).size).toBe(1);
  });

  it('answers like a cluster-mode proxy: one entry, every id joined by commas, the real offset', async () => {
    const batch = distinctBatch('metrics');
    const response = await rawSend(fixture.broker, ...batch);
    const ids = batch.map((entry) => entry.getSystemProperties()?.getMessageId());
    const [stored] = fixture.broker.messages('metrics').slice(-3);
    expect(response.getEntriesList().map((entry) => [entry.getMessageId(), entry.getOffset()])).toEqual([
      [ids.join(','), stored?.queueOffset],
    ]);
  });

  it('answers like a local-mode proxy with proxyMode local: one entry, an id no stored message has, offset 0', async () => {
    const local = await fixture.startBroker({ proxyMode: 'local' });
    await rawSend(local, rawMessage('metrics', MessageType.NORMAL));
    const batch = distinctBatch('metrics');
    const response = await rawSend(local, ...batch);
    const entries = response.getEntriesList();
    expect(entries).toHaveLength(1);
    const answered = entries[0]?.getMessageId() ?? '';
    expect(answered).toMatch(/^[0-9A-F]{34}$/);
    expect(entries[0]?.getOffset()).toBe(0);
    expect(local.messages('metrics').map((stored) => stored.messageId)).not.toContain(answered);
    expect(
      local
        .messages('metrics')
        .slice(1)
        .map((stored) => stored.queueOffset),
    ).toEqual([0, 1, 2]);
  });

  it('rejects the whole request when one message is invalid', async () => {
    const before = fixture.broker.messages('object-events').length;
    const response = await rawSend(
      fixture.broker,
      rawMessage('object-events', MessageType.NORMAL),
      rawMessage('object-events', MessageType.NORMAL, (p) => p.setTag('x||y')),
    );
    expect(response.getStatus()?.getCode()).toBe(40004);
    expect(fixture.broker.messages('object-events')).toHaveLength(before);
  });
});
