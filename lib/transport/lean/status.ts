import { BrokerStatusError } from '../errors.js';
import { Code, type StatusObject } from './proto.js';

/** The broker's status for a topic it does not know. */
export const TOPIC_NOT_FOUND = 40402;

/** The broker's verdict: OK, MULTIPLE_RESULTS and MESSAGE_NOT_FOUND pass, every other code throws. */
export function checkStatus(status: StatusObject | null | undefined): void {
  const code = status?.code;
  if (code === undefined || code === Code.OK || code === Code.MULTIPLE_RESULTS) return;
  if (code === Code.MESSAGE_NOT_FOUND) return;
  throw new BrokerStatusError(code, status?.message ?? '');
}

/** A failure of a check made before anything was sent. */
export function notSent<T extends Error>(error: T): T & { requestWritten: false } {
  return Object.assign(error, { requestWritten: false as const });
}
