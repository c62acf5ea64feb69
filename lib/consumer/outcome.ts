import type { ReceivedMessage } from './received.js';

/** What a batch's processing reports: per message, and in total. */

export type OutcomeStatus = 'processed' | 'failed' | 'retried' | 'dead-lettered' | 'duplicate';

export interface HandlerContext {
  /** This message's attempt: 1 on first processing, counted through the retry topic. */
  attempt: number;
  /** Epoch ms by which the handler must be done. */
  deadline: number;
  /** Aborts when the handler's time is up. */
  signal: AbortSignal;
}

export type MessageHandler<R> = (message: ReceivedMessage, context: HandlerContext) => Promise<R> | R;

export interface MessageOutcome<R> {
  message: ReceivedMessage;
  status: OutcomeStatus;
  attempt: number;
  result?: R;
  error?: unknown;
  /** Where a retried or dead-lettered message went, with the id the broker gave it. */
  forwardedTo?: { topic: string; messageId: string };
}

export interface ProcessReport<R> {
  outcomes: MessageOutcome<R>[];
  processed: number;
  failed: number;
  retried: number;
  deadLettered: number;
  duplicates: number;
}

/** One message of the batch on its way through: run, then (under `'retry-topic'`) perhaps forwarded. */
export interface Slot<R> {
  message: ReceivedMessage;
  attempt: number;
  outcome?: MessageOutcome<R>;
  /** Failed without running (deadline, earlier failure in its group): the attempt is not used up. */
  spared?: boolean;
}

/** The report of a batch's outcomes, counted by status. */
export function summarise<R>(outcomes: MessageOutcome<R>[]): ProcessReport<R> {
  const report: ProcessReport<R> = {
    outcomes,
    processed: 0,
    failed: 0,
    retried: 0,
    deadLettered: 0,
    duplicates: 0,
  };
  for (const { status } of outcomes) {
    if (status === 'processed') report.processed++;
    else if (status === 'failed') report.failed++;
    else if (status === 'retried') report.retried++;
    else if (status === 'dead-lettered') report.deadLettered++;
    else report.duplicates++;
  }
  return report;
}
