import { ConfigError } from '../errors.js';
import type { Env } from './credentials.js';
import { accepts, type Kind } from './kinds.js';

/**
 * Options declared once. Each option says what it accepts (a {@link Kind}), its environment variable
 * and its default, with its doc text as JSDoc on the entry; the option and resolved types, the
 * unknown-key check, the resolution (option, then environment, then default) and the README's
 * configuration table are all derived from that one declaration.
 */

type Resolved = Readonly<Record<string, unknown>>;
declare const resolvedType: unique symbol;

/**
 * What an option is for lives in the JSDoc on its schema entry: editors show it on the option types,
 * infra/config-table.ts writes it into the README, and bundles do not carry it. `@default` there says a
 * default in words when it is computed or is no plain value; `@env` names variables the option reads in
 * its own way.
 */
interface Described {
  /** The option's own environment variable, read through its kind's `fromEnv`. */
  readonly env?: string;
}

export interface Option<T, R> extends Described {
  readonly kind: Kind<T>;
  /** A plain default, or one computed from the options resolved before this one. */
  readonly default?: R | ((resolved: Resolved) => R);
  /** Raised as a {@link ConfigError} when neither the option nor its variable is set. */
  readonly required?: string;
  /** Turns an accepted value into its resolved form; throws a {@link ConfigError} for a bad one. */
  readonly finish?: (value: T, name: string) => R;
  /** Resolves the option on its own terms (several variables, objects built from it) instead. */
  readonly resolve?: (value: T | undefined, env: Env) => R;
  readonly [resolvedType]?: R;
}

export interface Group<S extends Schema> {
  readonly group: S;
}

// biome-ignore lint/suspicious/noExplicitAny: a schema holds options of every value type.
type AnyOption = Option<any, any>;
// biome-ignore lint/suspicious/noExplicitAny: matches an option of any value type in the type mappings.
type Unknown = any;
// biome-ignore lint/suspicious/noExplicitAny: a schema holds groups of every shape.
export type Schema = { readonly [key: string]: AnyOption | Group<any> };

/** The options a caller passes: every key optional, typed by its kind. */
export type OptionsOf<S extends Schema> = {
  -readonly [K in keyof S]?: S[K] extends Group<infer G>
    ? OptionsOf<G>
    : S[K] extends Option<infer T, Unknown>
      ? T
      : never;
};

/** The options after resolution: every key present, with its default or environment value. */
export type ResolvedOf<S extends Schema> = {
  -readonly [K in keyof S]: S[K] extends Group<infer G>
    ? ResolvedOf<G>
    : S[K] extends Option<Unknown, infer R>
      ? R
      : never;
};

type Spec<T> = Described & { readonly finish?: (value: T, name: string) => T };

export function option<T>(
  kind: Kind<T>,
  spec: Spec<T> & { default: NoInfer<T> | ((resolved: Resolved) => NoInfer<T>) },
): Option<T, T>;
export function option<T>(kind: Kind<T>, spec: Spec<T> & { required: string }): Option<T, T>;
export function option<T, R>(
  kind: Kind<T>,
  spec: Described & { resolve: (value: T | undefined, env: Env) => R },
): Option<T, R>;
export function option<T>(kind: Kind<T>, spec: Spec<T>): Option<T, T | undefined>;
export function option<T, R>(kind: Kind<T>, spec: Omit<Option<T, R>, 'kind'>): Option<T, R> {
  return { kind, ...spec };
}

export function group<const S extends Schema>(options: S): Group<S> {
  return { group: options };
}

// biome-ignore lint/suspicious/noExplicitAny: a group of any shape.
export function isGroup(entry: Schema[string]): entry is Group<any> {
  return 'group' in entry;
}

/** Rejects keys that are not in `allowed`, naming them, so a typo never silently falls back to a default. */
export function rejectUnknownKeys(value: object, allowed: Iterable<string>, where: string): void {
  const known = [...allowed];
  const unknown = Object.keys(value).filter((key) => !known.includes(key));
  if (unknown.length > 0) {
    throw new ConfigError(
      `unknown ${where} option${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')} (known: ${known.join(', ')})`,
      { field: unknown[0] },
    );
  }
}

/** How a rejected value is shown: primitives as written, anything else only by its type. */
function shown(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    return typeof value === 'function' ? 'a function' : (JSON.stringify(value) ?? String(value));
  }
  return Array.isArray(value) ? 'an array' : 'an object';
}

/** The value when `kind` accepts it; a `ConfigError` naming the option and showing the value otherwise. */
export function checked<T>(kind: Kind<T>, value: unknown, name: string, raw: unknown = value): T {
  if (!accepts(kind, value))
    throw new ConfigError(`${name} must be ${kind.expects}, got ${shown(raw)}`, { field: name });
  return value;
}

/** An empty or blank variable counts as unset, as the deploy files write optional values. */
function fromEnv(entry: AnyOption, env: Env): { value: unknown; raw: string } | undefined {
  const raw = entry.env === undefined ? undefined : env[entry.env]?.trim();
  if (!raw) return undefined;
  return { value: entry.kind.fromEnv ? entry.kind.fromEnv(raw) : raw, raw };
}

function resolveOne(entry: AnyOption, value: unknown, env: Env, name: string, resolved: Resolved): unknown {
  if (entry.resolve)
    return entry.resolve(value === undefined ? value : checked(entry.kind, value, name), env);
  const set = value !== undefined ? { value, raw: value, name } : { ...fromEnv(entry, env), name: entry.env };
  if (set.value === undefined) {
    if (entry.required !== undefined) throw new ConfigError(entry.required, { field: name });
    return typeof entry.default === 'function' ? entry.default(resolved) : entry.default;
  }
  const accepted = checked(entry.kind, set.value, set.name ?? name, set.raw);
  return entry.finish ? entry.finish(accepted, set.name ?? name) : accepted;
}

/**
 * Resolves `input` against `schema`: each option from `input`, else from its environment variable,
 * else its default, in declaration order (a computed default sees the options before it). Unknown keys,
 * values of the wrong type and values out of bounds are {@link ConfigError}s that name the option, or
 * the variable the value came from.
 */
export function resolveOptions<S extends Schema>(
  schema: S,
  input: unknown,
  env: Env,
  where: string,
): ResolvedOf<S> {
  return resolveIn(schema, input, env, where, '') as ResolvedOf<S>;
}

/** `where` names the options in messages (`retry`); `prefix` goes before each option's name (`retry.`). */
function resolveIn(schema: Schema, input: unknown, env: Env, where: string, prefix: string): Resolved {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new ConfigError(`${where} options must be an object`);
  }
  rejectUnknownKeys(input, Object.keys(schema), where);
  const given = input as Readonly<Record<string, unknown>>;
  const resolved: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(schema)) {
    const name = `${prefix}${key}`;
    resolved[key] = isGroup(entry)
      ? resolveIn(entry.group, given[key] ?? {}, env, name, `${name}.`)
      : resolveOne(entry, given[key], env, name, resolved);
  }
  return resolved;
}

/** The options' plain defaults (computed ones and options without a default are left out). */
export type DefaultsOf<S extends Schema> = {
  readonly [K in keyof S]?: S[K] extends Group<infer G>
    ? DefaultsOf<G>
    : S[K] extends Option<Unknown, infer R>
      ? Exclude<R, undefined>
      : never;
};

export function defaultsOf<S extends Schema>(schema: S): DefaultsOf<S> {
  const defaults: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(schema)) {
    if (isGroup(entry)) defaults[key] = defaultsOf(entry.group);
    else if (entry.default !== undefined && typeof entry.default !== 'function')
      defaults[key] = entry.default;
  }
  return Object.freeze(defaults) as DefaultsOf<S>;
}
