import { randomBytes } from 'node:crypto';
import { ErrorCode, RocketMQError } from '../errors.js';
import { DEFAULT_MAX_BODY_BYTES, type PreparedMessage, validateMessage } from '../message.js';
import type { RedeliverOptions, RedeliverReport, SpoolRecord, SpoolSender } from './spool.js';

/** What the broker says about the message itself; resending it as it is cannot succeed. */
export const BROKER_VERDICTS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCode.TOPIC_NOT_FOUND,
  ErrorCode.MESSAGE_TYPE_MISMATCH,
  ErrorCode.UNAUTHORIZED,
  ErrorCode.FORBIDDEN,
  ErrorCode.BAD_REQUEST,
  ErrorCode.MESSAGE_TOO_LARGE,
  ErrorCode.MESSAGE_INVALID,
]);

/**
 * How long a redeliverer holds a claim on a segment before another one may take it over. The holder
 * renews it while it works, and starts a resend only while at least half of it is left, so a live holder
 * never loses a claim to another redeliverer; a crashed one's claim comes back this long after its last
 * renewal.
 */
export const DEFAULT_LEASE_MS = 60_000;

/** Who holds a claim: random per spool object, so two spools in one process are two owners. */
export function newOwner(): string {
  return randomBytes(6).toString('hex');
}

export function newSegmentName(suffix: string): string {
  // Time first so that a listing is already in spool order.
  return `${Date.now().toString().padStart(15, '0')}-${randomBytes(6).toString('hex')}${suffix}`;
}

export function emptyReport(): RedeliverReport {
  return { delivered: 0, failed: 0, rejected: 0, quarantined: 0, remaining: 0 };
}

/**
 * Checks a record read back from storage as a new message is checked: the spool's content is input like
 * any other (a planted or damaged record must not reach the broker with this producer's credentials). A
 * `UNIQ_KEY` or other system property, a key with whitespace, an empty topic are refused here. An empty
 * body passes: a record of one was only ever written for a send that allowed it.
 */
export function revalidate(message: PreparedMessage, options: RedeliverOptions): PreparedMessage {
  return validateMessage(
    {
      topic: message.topic,
      keys: [...message.keys],
      properties: { ...message.properties },
      body: message.body,
      allowEmptyBody: true,
      ...(message.tag !== undefined && { tag: message.tag }),
      ...(message.messageGroup !== undefined && { messageGroup: message.messageGroup }),
      ...(message.deliveryTimestamp !== undefined && { deliveryTimestamp: message.deliveryTimestamp }),
    },
    { maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES },
  );
}

/** What became of one record's resend. */
export type Outcome = 'delivered' | 'failed' | 'rejected' | 'invalid' | 'stopped';

/**
 * Validates and resends one record. Returns the outcome and, unless it was delivered, the record with
 * its new error (for the live spool or quarantine).
 */
export async function resendOne(
  record: SpoolRecord,
  send: SpoolSender,
  options: RedeliverOptions,
): Promise<{ outcome: Outcome; record: SpoolRecord }> {
  let message: PreparedMessage;
  try {
    message = revalidate(record.message, options);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return {
      outcome: 'invalid',
      record: {
        ...record,
        error: {
          code: ErrorCode.MESSAGE_INVALID,
          message: `spooled record is not a valid message: ${reason}`,
        },
      },
    };
  }
  try {
    await send(message);
    return { outcome: 'delivered', record };
  } catch (error) {
    const code = error instanceof RocketMQError ? error.code : ErrorCode.UNKNOWN;
    const failed: SpoolRecord = {
      ...record,
      error: { code, message: error instanceof Error ? error.message : String(error) },
      redeliveryAttempts: record.redeliveryAttempts + 1,
    };
    // The sender is gone, not the message: everything from here on stays for the next call.
    if (code === ErrorCode.PRODUCER_CLOSED) return { outcome: 'stopped', record: failed };
    // A verdict that no resend can change: kept aside with its error instead of retried forever.
    if (BROKER_VERDICTS.has(code)) return { outcome: 'rejected', record: failed };
    return { outcome: 'failed', record: failed };
  }
}

/** Whether the deadline or the limit stops new resends now. */
export function exhausted(report: RedeliverReport, options: RedeliverOptions): boolean {
  const attempted = report.delivered + report.failed + report.rejected;
  return (
    attempted >= (options.limit ?? Number.POSITIVE_INFINITY) ||
    (options.deadline !== undefined && Date.now() >= options.deadline)
  );
}

/** Where a resent record goes that was not delivered: put aside for quarantine, or kept for next time. */
export function settleFailure(
  outcome: Exclude<Outcome, 'delivered'>,
  record: SpoolRecord,
  into: { report: RedeliverReport; kept: SpoolRecord[]; aside: SpoolRecord[]; state: { stopped: boolean } },
): void {
  if (outcome === 'invalid' || outcome === 'rejected') {
    into.aside.push(record);
    if (outcome === 'invalid') into.report.quarantined++;
    else into.report.rejected++;
    return;
  }
  into.kept.push(record);
  into.report.failed++;
  // The sender is gone, not the message: everything after it stays for the next call.
  if (outcome === 'stopped') into.state.stopped = true;
}
