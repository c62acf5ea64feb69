import { ErrorCode, EventError } from '../errors.js';
import { describeValue, type EventObject, isEventObject } from './fields.js';

/**
 * Turning raw trigger input into a JSON object. FC hands every event over as a Buffer holding JSON,
 * local tools pass strings, Lambda passes the parsed object: all three end up here.
 */

/** What a platform may hand over: the event object, or a Buffer / string holding its JSON. */
export type EventInput<T> = T | Uint8Array | string;

// fatal: a Buffer that is not UTF-8 is a broken event, not text to repair with U+FFFD.
const UTF8 = new TextDecoder('utf-8', { fatal: true });

// Only text that mentions `proto` or holds a \u escape can spell `__proto__` as a key; everything
// else skips the slower reviver pass.
const MAY_HOLD_PROTO_KEY = /proto|\\u/;

function dropProtoKeys(key: string, value: unknown): unknown {
  return key === '__proto__' ? undefined : value;
}

/**
 * `JSON.parse` without `__proto__` keys. `JSON.parse` itself never touches `Object.prototype`, but an own
 * `__proto__` key in its result turns into a prototype swap as soon as handler code copies the object
 * with `Object.assign` or a hand-written deep merge; such keys are never meaningful data, so they go.
 * Throws the `SyntaxError` of `JSON.parse`.
 */
export function parseJson(text: string): unknown {
  return MAY_HOLD_PROTO_KEY.test(text) ? JSON.parse(text, dropProtoKeys) : JSON.parse(text);
}

/** Decodes UTF-8 bytes; `undefined` when they are not valid UTF-8. A leading BOM is dropped. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

function invalidEvent(kind: string, problem: string, cause?: unknown): EventError {
  return new EventError(ErrorCode.EVENT_INVALID, `${kind}: ${problem}`, { cause });
}

/**
 * The event as a JSON object, whether it came as a Buffer (FC), a string (local invoke) or an object
 * (Lambda). `kind` names the expected event in error messages, e.g. `FC HTTP event`.
 */
export function decodeEvent(event: unknown, kind: string): EventObject {
  let parsed: unknown = event;
  if (event instanceof Uint8Array || typeof event === 'string') {
    const text = typeof event === 'string' ? event : decodeUtf8(event);
    if (text === undefined) throw invalidEvent(kind, 'the event bytes are not valid UTF-8');
    try {
      parsed = parseJson(text);
    } catch (error) {
      throw invalidEvent(kind, `the event is not valid JSON: ${(error as Error).message}`, error);
    }
  }
  if (!isEventObject(parsed)) {
    throw invalidEvent(kind, `the event must be a JSON object, got ${describeValue(parsed)}`);
  }
  return parsed;
}
