import fc from 'fast-check';
import { expect } from 'vitest';
import { EventError } from '../../lib/errors.js';
import type { JsonObject } from './load-event.js';

/** fast-check generators of hostile trigger input, shared by the property tests of every mapper family. */

/** Any JavaScript value a caller could pass, including null-prototype objects, boxed values and bytes. */
export const anyValue = fc.anything({
  maxDepth: 3,
  maxKeys: 6,
  withBoxedValues: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withBigInt: true,
  withDate: true,
  withTypedArray: true,
  withSparseArray: true,
  stringUnit: 'binary',
});

/** Values that sit on the edges of what the mappers check. */
const edgeValue = fc.constantFrom<unknown>(
  '',
  ' ',
  '/',
  '%',
  '%zz',
  '%E0%A4%A',
  '+',
  'a+b%2Fc',
  'GET',
  'post',
  'GE T',
  'v1',
  '2.0',
  '1.0',
  'acs:oss',
  'aws:s3',
  'aws.events',
  'Scheduled Event',
  'ObjectRemoved:Delete',
  'ObjectCreated:Put',
  '2026-02-30T00:00:00Z',
  '2026-11-24T08:00:00Z',
  '2026-11-24T08:00:00.123+08:00',
  '{"a":1}',
  '{"__proto__":{"polluted":1}}',
  'eyJhIjoxfQ==',
  '=',
  'arn:aws:events:us-east-1:123456789012:rule/x',
  '00-b5f5ab26bdc0c601fe0e67db697ab0fa-0daae837cc946543-01',
  0,
  -1,
  1.5,
  2 ** 53,
  Number.NaN,
  true,
  false,
  null,
  [],
  {},
  ['a', 'b'],
  [1],
);

export const fieldValue = fc.oneof(
  { arbitrary: edgeValue, weight: 3 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 24 }), weight: 2 },
  { arbitrary: anyValue, weight: 2 },
);

const dangerousKey = fc.constantFrom(
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'polluted',
);

type Step = string | number;

type Mutation =
  | { kind: 'delete'; target: number }
  | { kind: 'set'; target: number; value: unknown }
  | { kind: 'addKey'; target: number; key: string; value: unknown };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), target: fc.nat() }),
  fc.record({ kind: fc.constant('set' as const), target: fc.nat(), value: fieldValue }),
  fc.record({
    kind: fc.constant('addKey' as const),
    target: fc.nat(),
    key: fc.oneof(dangerousKey, fc.string({ maxLength: 8 })),
    value: fieldValue,
  }),
);

export const mutations = fc.array(mutation, { minLength: 1, maxLength: 4 });

// Only JSON-like containers are walked; boxed strings, typed arrays, Maps and Dates are leaves.
function isContainer(value: unknown): value is object {
  if (Array.isArray(value)) return true;
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function pathsOf(value: unknown, prefix: Step[], into: Step[][]): Step[][] {
  if (!isContainer(value)) return into;
  for (const key of Object.keys(value)) {
    const path = [...prefix, Array.isArray(value) ? Number(key) : key];
    into.push(path);
    pathsOf((value as Record<string, unknown>)[key], path, into);
  }
  return into;
}

// Generated values are shared with fast-check's shrinker, so they are copied before being edited in place.
function copyOf(value: unknown): unknown {
  try {
    return structuredClone(value);
  } catch {
    return value;
  }
}

function nodeAt(root: unknown, path: readonly Step[]): Record<Step, unknown> {
  let node = root as Record<Step, unknown>;
  for (const step of path) node = node[step] as Record<Step, unknown>;
  return node;
}

// defineProperty, so `__proto__` becomes an own key as JSON.parse would make it, not a prototype swap.
function put(node: Record<Step, unknown>, key: Step, value: unknown): void {
  Reflect.defineProperty(node, key, {
    value: copyOf(value),
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/** A deep copy of `base` with the mutations applied to nodes picked among its current paths. */
export function mutate(base: JsonObject, steps: readonly Mutation[]): JsonObject {
  const copy = structuredClone(base);
  for (const step of steps) {
    const paths = pathsOf(copy, [], []);
    const path = paths[step.target % paths.length] ?? [];
    const parent = nodeAt(copy, path.slice(0, -1));
    const last = path.at(-1);
    if (last === undefined) continue;
    if (step.kind === 'delete') Reflect.deleteProperty(parent, last);
    else if (step.kind === 'set') put(parent, last, step.value);
    else {
      const node = parent[last];
      if (isContainer(node) && !Array.isArray(node)) {
        put(node as Record<Step, unknown>, step.key, step.value);
      } else {
        const wrapper = {};
        put(wrapper, step.key, step.value);
        put(parent, last, wrapper);
      }
    }
  }
  return copy;
}

/** How the event reaches the mapper: as FC passes it (Buffer), as a string, or as Lambda does (object). */
export const delivery = fc.constantFrom('buffer', 'string', 'object');

export function deliver(event: JsonObject, how: string): unknown {
  if (how === 'object') return event;
  let text: string;
  try {
    text = JSON.stringify(event);
  } catch {
    return event; // BigInt or cycles: only an object can carry them
  }
  return how === 'buffer' ? Buffer.from(text) : text;
}

const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype).sort();

/**
 * Runs a mapper on hostile input: it must either return a result that passes `check`, or throw an
 * EventError; anything else (a TypeError, a RangeError, a partial result) fails the property.
 */
export function outcome<T>(run: () => T, check: (result: T) => void): void {
  let result: T;
  try {
    result = run();
  } catch (error) {
    if (!(error instanceof EventError)) throw error;
    expect(error.message.length).toBeGreaterThan(0);
    return;
  } finally {
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PROTOTYPE_KEYS);
  }
  check(result);
}
