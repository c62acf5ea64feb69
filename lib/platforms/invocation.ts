import type { Logger } from '@aws-lambda-powertools/logger';
import type { DrainResult, Producer } from '../producer/producer.js';

/** What a function's platform-neutral core receives next to its input. */
export interface Invocation {
  platform: 'fc' | 'aws';
  requestId: string;
  functionName: string;
  /**
   * Epoch ms by which the invocation's own work must be done: the platform's limit minus a safety
   * margin that leaves time to drain and return. Pass it to `send(message, { deadline })`.
   */
  deadline: number;
  /** Milliseconds left until {@link deadline}, never negative. */
  remainingMs(): number;
  producer: Producer;
  logger: Logger;
}

/** Time kept back from the platform's limit: 10 % of it, at least 100 ms and at most 1 s. */
export function safetyMarginMs(limitMs: number): number {
  return Math.min(1000, Math.max(100, Math.round(limitMs * 0.1)));
}

export function deadlineWithin(remainingMs: number, now = Date.now()): number {
  return now + Math.max(0, remainingMs - safetyMarginMs(remainingMs));
}

export function createInvocation(fields: Omit<Invocation, 'remainingMs'>): Invocation {
  return { ...fields, remainingMs: () => Math.max(0, fields.deadline - Date.now()) };
}

/**
 * Drains the producer before the handler returns: the platform freezes the instance right after, and
 * a send still open then may never finish. Bounded by the invocation's deadline plus the safety margin
 * kept for exactly this.
 */
export async function drainInvocation(invocation: Invocation, marginMs: number): Promise<DrainResult> {
  const result = await invocation.producer.drain({ deadline: invocation.deadline + marginMs });
  if (result.expiredAsync + result.droppedOneway > 0) {
    invocation.logger.warn({ message: 'invocation ended with sends still open', ...result });
  }
  return result;
}
