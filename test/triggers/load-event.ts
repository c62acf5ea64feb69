import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { ErrorCode, EventError, RocketMQError } from '../../lib/errors.js';

/** Fixtures of `events/`, in the three forms a handler can receive them. */
export type JsonObject = Record<string, unknown>;

export function eventBytes(name: string): Buffer {
  return readFileSync(new URL(`../../events/${name}`, import.meta.url));
}

export function eventObject(name: string): JsonObject {
  return JSON.parse(eventBytes(name).toString('utf8')) as JsonObject;
}

/** A deep copy of `event` with the value at `path` replaced (or removed when `value` is `undefined`). */
export function withField(event: JsonObject, path: readonly (string | number)[], value: unknown): JsonObject {
  const copy = structuredClone(event);
  let node: Record<string | number, unknown> = copy;
  for (const step of path.slice(0, -1)) node = node[step] as Record<string | number, unknown>;
  const last = path.at(-1) as string | number;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}

export interface ExpectedError {
  code?: ErrorCode;
  field?: string;
  message?: string | RegExp;
}

/** Runs `act`, expects a library error, checks code, field and message, and returns it. */
export function expectError(act: () => unknown, expected: ExpectedError): RocketMQError {
  let caught: unknown;
  try {
    act();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(RocketMQError);
  const error = caught as RocketMQError;
  expect(error.code).toBe(expected.code ?? ErrorCode.EVENT_INVALID);
  if (expected.code === undefined || expected.code !== ErrorCode.CONFIG_INVALID) {
    expect(error).toBeInstanceOf(EventError);
  }
  if (expected.field !== undefined) expect(error.field).toBe(expected.field);
  if (expected.message !== undefined) expect(error.message).toMatch(expected.message);
  return error;
}
