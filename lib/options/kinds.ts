import * as v from 'valibot';

/**
 * What one option accepts. The check is a valibot schema; `expects` says the same in words, for error
 * messages and the README, from the same arguments; `fromEnv` turns an environment variable's text into
 * a value for the same check (absent: the option has no environment variable of its own).
 */
export interface Kind<T> {
  readonly schema: v.GenericSchema<T>;
  readonly expects: string;
  readonly fromEnv?: (text: string) => unknown;
}

function fromText(text: string): string {
  return text;
}

/** An integer ≥ `min`; from the environment, its decimal text. */
export function integer(min: number): Kind<number> {
  return {
    schema: v.pipe(v.number(), v.integer(), v.minValue(min)),
    expects: `an integer ≥ ${min}`,
    fromEnv: Number,
  };
}

/** A finite number ≥ `min`, fractions allowed. */
export function number(min: number): Kind<number> {
  return {
    schema: v.pipe(v.number(), v.finite(), v.minValue(min)),
    expects: `a number ≥ ${min}`,
    fromEnv: Number,
  };
}

/** `true` or `false`; from the environment also `1` or `0`. */
export const boolean: Kind<boolean> = {
  schema: v.boolean(),
  expects: 'true or false',
  fromEnv: (text) => ({ true: true, 1: true, false: false, 0: false })[text] ?? text,
};

export const text: Kind<string> = { schema: v.string(), expects: 'a string', fromEnv: fromText };

/** One of a few words, typed as their union. */
export function oneOf<const T extends readonly [string, ...string[]]>(choices: T): Kind<T[number]> {
  return { schema: v.picklist(choices), expects: `one of ${choices.join(', ')}`, fromEnv: fromText };
}

/** A value only a program can give (a function, an object of a given shape); typed by the caller. */
export function given<T>(expects: string, test: (value: unknown) => boolean): Kind<T> {
  return { schema: v.custom<T>(test), expects };
}

export function accepts<T>(kind: Kind<T>, value: unknown): value is T {
  return v.is(kind.schema, value);
}
