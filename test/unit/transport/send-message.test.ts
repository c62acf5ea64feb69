import { describe, expect, it } from 'vitest';
import type { PreparedMessage } from '../../../lib/message.js';
import { BrokerStatusError } from '../../../lib/transport/errors.js';
import {
  Code,
  type Int64,
  int64ToNumber,
  MessageType,
  Permission,
  SendMessageRequestType,
  SendMessageResponseType,
} from '../../../lib/transport/lean/proto.js';
import { PublishingRoute } from '../../../lib/transport/lean/route.js';
import { decodeSendAnswer, encodeSendRequest, queueFor } from '../../../lib/transport/lean/send-message.js';

interface Timestamp {
  seconds: Int64;
  nanos: number;
}

/** The fields of a decoded message that these tests read. */
interface SentMessage {
  topic: { name: string; resourceNamespace: string };
  userProperties: Record<string, string>;
  body: Uint8Array;
  systemProperties: {
    tag: string;
    keys: string[];
    messageId: string;
    messageType: number;
    messageGroup: string | null;
    bornTimestamp: Timestamp;
    deliveryTimestamp?: Timestamp;
  };
}

function message(overrides: Partial<PreparedMessage> = {}): PreparedMessage {
  return {
    topic: 'orders',
    tag: undefined,
    keys: ['order-1'],
    properties: { region: 'eu' },
    body: Buffer.from('hello'),
    messageGroup: undefined,
    deliveryTimestamp: undefined,
    ...overrides,
  };
}

function route(acceptMessageTypes: number[]): PublishingRoute {
  return new PublishingRoute(
    [
      {
        topic: { name: 'orders' },
        id: 0,
        permission: Permission.READ_WRITE,
        broker: { name: 'b', id: 0, endpoints: { addresses: [{ host: '127.0.0.1', port: 8081 }] } },
        acceptMessageTypes,
      },
    ],
    0,
  );
}

function answer(entries: object[], status = { code: Code.OK }): Buffer {
  return Buffer.from(SendMessageResponseType.encode({ status, entries }).finish());
}

describe('one message in a SendMessage call', () => {
  it('refuses a message type the topic does not accept before sending, naming both', () => {
    let refused: unknown;
    try {
      queueFor(route([MessageType.NORMAL]), message({ messageGroup: 'g1' }));
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(TypeError);
    expect(refused).toMatchObject({
      requestWritten: false,
      message: `Current message type not match with topic accept message types, topic=orders, actualMessageType=${MessageType.FIFO}, acceptMessageTypes=[${MessageType.NORMAL}]`,
    });
    expect(queueFor(route([MessageType.FIFO]), message({ messageGroup: 'g1' })).authority).toBe(
      '127.0.0.1:8081',
    );
  });

  it('encodes the system properties of a delayed, tagged message', () => {
    const prepared = message({ tag: 'paid', deliveryTimestamp: 1_700_000_123_456 });
    const queue = queueFor(route([MessageType.DELAY]), prepared);
    const bytes = encodeSendRequest({
      message: prepared,
      queue,
      messageId: 'ID-1',
      namespace: 'ns',
      now: 1_700_000_000_250,
    });
    const { messages } = SendMessageRequestType.decode(bytes) as { messages: SentMessage[] };
    expect(messages).toHaveLength(1);
    const [sent] = messages as [SentMessage];
    expect(sent.topic).toMatchObject({ name: 'orders', resourceNamespace: 'ns' });
    expect({ ...sent.userProperties }).toEqual({ region: 'eu' });
    expect(Buffer.from(sent.body).toString()).toBe('hello');
    const system = sent.systemProperties;
    expect(system).toMatchObject({ tag: 'paid', keys: ['order-1'], messageId: 'ID-1' });
    expect(system.messageType).toBe(MessageType.DELAY);
    expect([int64ToNumber(system.bornTimestamp.seconds), system.bornTimestamp.nanos]).toEqual([
      1_700_000_000, 250_000_000,
    ]);
    expect([int64ToNumber(system.deliveryTimestamp?.seconds), system.deliveryTimestamp?.nanos]).toEqual([
      1_700_000_123, 456_000_000,
    ]);
    // An unset optional field decodes as null.
    expect(system.messageGroup).toBeNull();
  });

  it('returns the receipt of the first entry', () => {
    const receipt = decodeSendAnswer(
      answer([{ status: { code: Code.OK }, messageId: 'M1', offset: 42 }]),
      'orders',
    );
    expect(receipt).toEqual({ messageId: 'M1', offset: 42 });
  });

  it("throws the broker's verdict from a failed entry, even under an OK status", () => {
    const failed = answer([{ status: { code: 40014, message: 'type mismatch' }, messageId: 'M1' }]);
    expect(() => decodeSendAnswer(failed, 'orders')).toThrow(BrokerStatusError);
    expect(() => decodeSendAnswer(failed, 'orders')).toThrow(/type mismatch/);
    expect(() => decodeSendAnswer(answer([], { code: 50001 }), 'orders')).toThrow(BrokerStatusError);
  });

  it('refuses an OK answer without a result entry', () => {
    expect(() => decodeSendAnswer(answer([]), 'orders')).toThrow(
      'the broker accepted the send to orders but returned no result entry',
    );
  });
});
