import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Message types a topic accepts; `MIXED` accepts all four, like a RocketMQ 5 topic created as MIXED. */
export type TopicMessageType = 'NORMAL' | 'FIFO' | 'DELAY' | 'TRANSACTION' | 'MIXED';

export const TOPIC_MESSAGE_TYPES: readonly TopicMessageType[] = [
  'NORMAL',
  'FIFO',
  'DELAY',
  'TRANSACTION',
  'MIXED',
];

/** The same character set and length limit the RocketMQ broker enforces on topic names. */
export const TOPIC_NAME_PATTERN = /^[%a-zA-Z0-9_-]{1,127}$/;

export const DEFAULT_TOPICS_FILE = fileURLToPath(new URL('./topics.json', import.meta.url));

/**
 * Checks a `{ topic: type }` object and returns it as a map.
 * `source` names where the object came from, so the error points at the file or option to fix.
 */
export function validateTopics(value: unknown, source: string): Map<string, TopicMessageType> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${source}: expected an object mapping topic names to message types`);
  }
  const topics = new Map<string, TopicMessageType>();
  for (const [name, type] of Object.entries(value)) {
    if (!TOPIC_NAME_PATTERN.test(name)) {
      throw new TypeError(
        `${source}: topic "${name}" has an invalid name; it must match ${TOPIC_NAME_PATTERN}`,
      );
    }
    if (!TOPIC_MESSAGE_TYPES.includes(type as TopicMessageType)) {
      throw new TypeError(
        `${source}: topic "${name}" has type ${JSON.stringify(type)}; expected one of ${TOPIC_MESSAGE_TYPES.join(', ')}`,
      );
    }
    topics.set(name, type as TopicMessageType);
  }
  if (topics.size === 0) throw new TypeError(`${source}: no topics defined`);
  return topics;
}

/** Reads a JSON topics file (`{ "orders": "NORMAL", "fifo-topic": "FIFO" }`). */
export function loadTopics(path: string): Map<string, TopicMessageType> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new Error(`Cannot read topics file ${path}`, { cause });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new Error(`Topics file ${path} is not valid JSON`, { cause });
  }
  return validateTopics(parsed, `Topics file ${path}`);
}
