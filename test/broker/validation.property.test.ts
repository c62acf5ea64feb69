import fc from 'fast-check';
import definitionPb from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import servicePb, {
  type SendMessageResponse,
} from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import { describe, expect, it } from 'vitest';
import { MessageValidationError, type PreparedMessage, validateMessage } from '../../lib/index.js';
import { RESERVED_PROPERTY_NAMES } from '../../lib/message.js';
import { useBroker } from '../support/broker-fixture.js';
import { clientMetadata, rawClient, shutDownClientsAfterEach, unary } from './support.js';

const RUNS = 300;
const { MessageType } = definitionPb;

const fixture = useBroker();
shutDownClientsAfterEach();

let sequence = 0;
/** The message as the producer would put it on the wire. */
function toWire(prepared: PreparedMessage): definitionPb.Message {
  sequence++;
  const system = new definitionPb.SystemProperties()
    .setMessageId(`0200000000000000000000000000${sequence.toString(16).padStart(6, '0').toUpperCase()}`)
    .setMessageType(prepared.messageGroup === undefined ? MessageType.NORMAL : MessageType.FIFO)
    .setBornHost('property-test')
    .setKeysList([...prepared.keys]);
  if (prepared.tag !== undefined) system.setTag(prepared.tag);
  if (prepared.messageGroup !== undefined) system.setMessageGroup(prepared.messageGroup);
  const wire = new definitionPb.Message()
    .setTopic(new definitionPb.Resource().setName(prepared.topic))
    .setSystemProperties(system)
    .setBody(prepared.body);
  for (const [key, value] of Object.entries(prepared.properties)) wire.getUserPropertiesMap().set(key, value);
  return wire;
}

function send(wire: definitionPb.Message): Promise<SendMessageResponse> {
  const client = rawClient(fixture.broker);
  const request = new servicePb.SendMessageRequest().setMessagesList([wire]);
  return unary((done) => client.sendMessage(request, clientMetadata(), done));
}

const controlCharacter = fc
  .oneof(fc.integer({ min: 0, max: 0x1f }), fc.integer({ min: 0x7f, max: 0x9f }))
  .map((code) => String.fromCharCode(code));
/** Short strings of letters, some whitespace, `|`, CJK, and control characters. */
const fieldText = fc
  .array(
    fc.oneof(
      { weight: 30, arbitrary: fc.constantFrom('a', 'B', '7', '-', '_', '.') },
      { weight: 1, arbitrary: fc.constantFrom(' ', '|', '组', '\u00a0') },
      { weight: 2, arbitrary: controlCharacter },
    ),
    { minLength: 1, maxLength: 8 },
  )
  .map((units) => units.join(''));
const propertyName = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(...RESERVED_PROPERTY_NAMES) },
  { weight: 4, arbitrary: fieldText },
);
const maybe = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });

const hostile = fc.record({
  tag: maybe(fieldText),
  keys: maybe(fc.array(fieldText, { maxLength: 3 })),
  properties: maybe(fc.dictionary(propertyName, fieldText, { maxKeys: 3 })),
  messageGroup: maybe(
    fc.oneof(
      { weight: 5, arbitrary: fieldText },
      { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 15, maxLength: 40 }) },
    ),
  ),
  body: fc.oneof(
    { weight: 9, arbitrary: fc.string({ minLength: 1, maxLength: 8 }) },
    { weight: 1, arbitrary: fc.constant('') },
  ),
});

describe('the library never sends what the embedded broker (the proxy rules) would reject', () => {
  it(`a message validateMessage accepts is stored; one the broker rejects was refused locally (${RUNS} cases)`, async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(hostile, async (fields) => {
        const topic = fields.messageGroup === undefined ? 'orders' : 'fifo-topic';
        const message = { topic, ...fields };
        let prepared: PreparedMessage | undefined;
        try {
          prepared = validateMessage(message);
        } catch (error) {
          expect(error).toBeInstanceOf(MessageValidationError);
        }
        if (prepared === undefined) return;
        accepted++;
        const status = (await send(toWire(prepared))).getStatus();
        expect({ code: status?.getCode(), message: status?.getMessage() }).toMatchObject({
          code: definitionPb.Code.OK,
        });
      }),
      { numRuns: RUNS },
    );
    // The generator must reach the broker often enough for the property to mean something.
    expect(accepted).toBeGreaterThan(RUNS / 20);
  });

  it(`the broker answers the proxy's code for a control character in each field (${RUNS} cases)`, async () => {
    const field = fc.constantFrom('tag', 'keys', 'propertyKey', 'propertyValue', 'messageGroup');
    await fc.assert(
      fc.asyncProperty(field, controlCharacter, async (where, control) => {
        const base: PreparedMessage = {
          topic: where === 'messageGroup' ? 'fifo-topic' : 'orders',
          tag: where === 'tag' ? `t${control}` : 'tag',
          keys: where === 'keys' ? [`k${control}`] : ['key'],
          properties:
            where === 'propertyKey'
              ? { [`p${control}`]: 'v' }
              : { p: where === 'propertyValue' ? control : 'v' },
          body: Buffer.from('x'),
          messageGroup: where === 'messageGroup' ? `g${control}` : undefined,
          deliveryTimestamp: undefined,
        };
        const expected = {
          tag: 40004,
          keys: 40005,
          propertyKey: 40007,
          propertyValue: 40007,
          messageGroup: 40006,
        };
        expect((await send(toWire(base))).getStatus()?.getCode()).toBe(
          expected[where as keyof typeof expected],
        );
      }),
      { numRuns: RUNS },
    );
  });
});
