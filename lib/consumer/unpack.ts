import { isPack, unpack } from '../pack/format.js';
import { parseTraceparent } from '../triggers/traceparent.js';
import { ReceivedMessage } from './received.js';

/**
 * A received message as the records it carries: a pack becomes one {@link ReceivedMessage} per record
 * (each with its own body, keys, properties and trace, and `pack` saying where it sat), anything else
 * stays the message it is. Throws the EventError of `unpack` for a corrupt pack.
 */
export function unpackMessage(message: ReceivedMessage): ReceivedMessage[] {
  if (!isPack(message.userProperties)) return [message];
  const records = unpack({ body: message.body, properties: message.userProperties, keys: message.keys });
  if (records.length === 1 && records[0]?.pack === undefined) return [message];
  return records.map((record) => {
    const userProperties = Object.assign(Object.create(null) as Record<string, string>, record.properties);
    return new ReceivedMessage({
      ...message,
      keys: record.keys,
      body: record.body,
      userProperties,
      traceparent: parseTraceparent(userProperties.traceparent),
      pack: { messageId: message.messageId, index: record.pack?.index ?? 0, count: record.pack?.count ?? 1 },
    });
  });
}

/** Every message's records, in order. */
export function unpackMessages(messages: readonly ReceivedMessage[]): ReceivedMessage[] {
  return messages.flatMap(unpackMessage);
}
