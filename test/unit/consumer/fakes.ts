import { ReceivedMessage, type ReceivedMessageFields } from '../../../lib/consumer/received.js';
import { ErrorCode, RocketMQError } from '../../../lib/errors.js';
import type { Message } from '../../../lib/message.js';
import type { Producer } from '../../../lib/producer/producer.js';

/** A received message for unit tests, with every field defaulted. */
export function received(
  fields: Partial<Omit<ReceivedMessageFields, 'body'>> & { body?: Uint8Array | string } = {},
) {
  const { body = '{}', ...rest } = fields;
  return new ReceivedMessage({
    source: 'fc-rocketmq',
    topic: 'orders',
    messageId: undefined,
    tag: undefined,
    keys: [],
    userProperties: Object.create(null),
    systemProperties: Object.create(null),
    messageGroup: undefined,
    deliveryAttempt: undefined,
    bornTime: undefined,
    publishTime: undefined,
    traceparent: undefined,
    ...rest,
    body: typeof body === 'string' ? Buffer.from(body) : body,
  });
}

/**
 * A fake of the producer's `send` for unit tests of the processor: records each sync send, answers
 * with an id, or fails with UNAVAILABLE for topics listed in `failTopics`.
 */
export function fakeProducer(failTopics: readonly string[] = []) {
  const sent: Message[] = [];
  const producer = {
    async send(message: Message) {
      if (failTopics.includes(message.topic)) {
        throw new RocketMQError(ErrorCode.UNAVAILABLE, 'broker unreachable (fake)', { topic: message.topic });
      }
      sent.push(message);
      return { messageId: `fake-${sent.length}`, topic: message.topic, attempts: 1 };
    },
  };
  return { producer: producer as unknown as Producer, sent };
}

/** A logger that keeps what it is given, in the Powertools shape the library calls. */
export function memoryLogger() {
  const lines: Array<{ level: string; message: string; [key: string]: unknown }> = [];
  const at = (level: string) => (attributes: { message: string }) => lines.push({ level, ...attributes });
  const logger = { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
  return { logger: logger as never, lines };
}
