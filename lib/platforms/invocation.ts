import type { Logger } from '@aws-lambda-powertools/logger';
import type { DrainResult, Producer } from '../producer/producer.js';
import { currentInvocation } from '../trace-context.js';

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
  /** The time kept back after {@link deadline}: for the drain, expiry callbacks and spool writes. */
  marginMs: number;
  /** Milliseconds left until {@link deadline}, never negative. */
  remainingMs(): number;
  producer: Producer;
  logger: Logger;
  /**
   * Drains the sends this invocation started, bounded so that the handler still returns in time: until
   * {@link deadline} plus half the margin (the other half is left for returning). The wrappers call it
   * after the handler; a handler that needs the outcomes of its async sends before it returns calls it
   * itself.
   */
  drain(): Promise<DrainResult>;
}

/** Time kept back from the platform's limit: 10 % of it, at least 100 ms and at most 1 s. */
export function safetyMarginMs(limitMs: number): number {
  return Math.min(1000, Math.max(100, Math.round(limitMs * 0.1)));
}

/** The invocation's own deadline and the margin kept after it, from the time the platform still gives. */
export function invocationWindow(
  remainingMs: number,
  now = Date.now(),
): { deadline: number; marginMs: number } {
  const marginMs = safetyMarginMs(remainingMs);
  return { deadline: now + Math.max(0, remainingMs - marginMs), marginMs };
}

export function createInvocation(fields: Omit<Invocation, 'remainingMs' | 'drain'>): Invocation {
  const invocation: Invocation = {
    ...fields,
    remainingMs: () => Math.max(0, fields.deadline - Date.now()),
    drain: () => drainInvocation(invocation),
  };
  return invocation;
}

/**
 * Drains the producer before the handler returns: the platform freezes the instance right after, and
 * a send still open then may never finish. Bounded by the invocation's deadline plus half the margin
 * (the drain itself keeps time back for expiring open sends and persisting them); the other half is
 * left for returning.
 */
export async function drainInvocation(invocation: Invocation): Promise<DrainResult> {
  const result = await invocation.producer.drain({
    deadline: invocation.deadline + invocation.marginMs / 2,
    sends: currentInvocation()?.sends,
  });
  if (result.expiredAsync + result.droppedOneway > 0) {
    invocation.logger.warn({ message: 'invocation ended with sends still open', ...result });
  }
  return result;
}
