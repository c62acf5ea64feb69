import { ErrorCode, isFrameless, RocketMQError, uncaptured, withoutStack } from '../errors.js';
import type { Refusal } from './admission.js';
import { timeoutError } from './deadline.js';
import type { InFlightLimits } from './in-flight.js';
import type { SendResult } from './types.js';

/**
 * How a send ended, as a value: the broker's answer, or the error with the attempts made and whether
 * the message went to the spool. The error the caller sees is built from it once, complete.
 */
export type SendOutcome =
  | { readonly ok: true; readonly result: SendResult }
  | {
      readonly ok: false;
      readonly error: RocketMQError;
      readonly attempts: number;
      readonly spooled: boolean | undefined;
    };

export type SendFailed = Extract<SendOutcome, { ok: false }>;

export function failed(error: RocketMQError, attempts: number, spooled?: boolean): SendFailed {
  return { ok: false, error, attempts, spooled };
}

/** What a copy of an error may differ in; everything else is the original's. */
interface Amendments {
  message?: string;
  mayBeStored?: boolean;
  attempts?: number;
  spooled?: boolean;
}

/**
 * A new error like `error`, with `amendments`: errors are never changed once created, so that one
 * thrown to several places (a transport error shared by many calls) stays what each of them saw. The
 * copy keeps the original's stack (capturing another would only show this function) and its cause.
 */
export function amendedError(error: RocketMQError, amendments: Amendments): RocketMQError {
  const make = () =>
    new RocketMQError(error.code, amendments.message ?? error.message, {
      cause: error.cause,
      topic: error.topic,
      messageId: error.messageId,
      status: error.status,
      field: error.field,
      mayBeStored: amendments.mayBeStored ?? error.mayBeStored,
    });
  // An original made without a stack is copied without reading it: formatting even an empty stack
  // costs as much as the rest of the copy, and a drain copies thousands.
  const frameless = isFrameless(error);
  const copy = frameless ? withoutStack(make) : uncaptured(make);
  if (!frameless) {
    const frames = error.stack?.indexOf('\n    at ') ?? -1;
    if (frames >= 0) copy.stack = `${copy.name}: ${copy.message}${error.stack?.slice(frames)}`;
  }
  copy.attempts = amendments.attempts ?? error.attempts;
  copy.spooled = amendments.spooled ?? error.spooled;
  return copy;
}

/** The error a caller receives for a failed outcome: its own instance, with attempts and spooled. */
export function outcomeError(outcome: SendFailed): RocketMQError {
  return amendedError(outcome.error, { attempts: outcome.attempts, spooled: outcome.spooled });
}

/** The error of a send the gate refused; nothing of it went on the wire. */
export function refusalError(
  reason: Refusal,
  topic: string,
  limits: Required<InFlightLimits>,
  sendTimeoutMs: number,
): RocketMQError {
  if (reason === 'deadline') return timeoutError(topic, 'send waiting for a send slot', false);
  if (reason === 'stalled') {
    return new RocketMQError(
      ErrorCode.UNAVAILABLE,
      `the broker answered no send for ${sendTimeoutMs} ms while this send to ${topic} waited its turn; it was never sent`,
      { topic, mayBeStored: false },
    );
  }
  return new RocketMQError(
    ErrorCode.IN_FLIGHT_FULL,
    `too many sends in flight (bounds: ${limits.maxInFlight} sends, ${limits.maxInFlightBytes} bytes); no room came free before the send's deadline`,
    { topic },
  );
}
