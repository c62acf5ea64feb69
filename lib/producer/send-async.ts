import { ConfigError } from '../errors.js';
import type { SendCallback, SendOptions, SendResult } from './types.js';

/** The promise form of `sendAsync`: the callback it is served by, and the promise the caller gets. */
export interface PromisedSend {
  readonly settled: Promise<SendResult>;
  reject(error: unknown): void;
}

/**
 * Reads `sendAsync`'s two forms, `(message, callback, options?)` and `(message, options?)`. The promise
 * form gets a callback of its own, so both forms are one implementation; its rejection is the error of
 * the failure, which says in `spooled` whether the message went to the spool.
 */
export function asyncArguments(
  callbackOrOptions: SendCallback | SendOptions | undefined,
  maybeOptions: SendOptions | undefined,
): { callback: SendCallback; options: SendOptions | undefined; promise: PromisedSend | undefined } {
  if (isCallback(callbackOrOptions)) {
    return { callback: callbackOrOptions, options: maybeOptions, promise: undefined };
  }
  if (callbackOrOptions && ('onSuccess' in callbackOrOptions || 'onException' in callbackOrOptions)) {
    throw new ConfigError('a send callback needs both onSuccess and onException functions');
  }
  let resolve!: (result: SendResult) => void;
  let reject!: (error: unknown) => void;
  const settled = new Promise<SendResult>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return {
    callback: { onSuccess: resolve, onException: (failure) => reject(failure.exception) },
    options: callbackOrOptions,
    promise: { settled, reject },
  };
}

function isCallback(value: unknown): value is SendCallback {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as SendCallback).onSuccess === 'function' &&
    typeof (value as SendCallback).onException === 'function'
  );
}
