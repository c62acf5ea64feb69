import type { Invocation } from 'rocketmq-serverless';
import { FileSpool, S3Spool } from 'rocketmq-serverless/spool';

export interface SpoolRedeliverResult {
  /** Records the broker acknowledged; removed from the spool. */
  delivered: number;
  /** Records whose resend failed with a retryable error; still in the spool for the next run. */
  failed: number;
  /** Records moved to quarantine: no longer valid messages, or refused by the broker for good. */
  quarantined: number;
  /** Records still in the spool after this run: the failed ones and those the deadline left untouched. */
  left: number;
  /** Where the spool is (`s3://bucket/prefix` or a directory), or `none` when the producer has none. */
  spool: string;
}

function where(invocation: Invocation): string {
  const { spool } = invocation.producer;
  if (spool instanceof S3Spool) return spool.location;
  if (spool instanceof FileSpool) return spool.dir;
  return spool ? 'custom' : 'none';
}

/**
 * Timer (FC) or schedule (EventBridge) → resends what the configured spool holds, oldest first, until
 * the invocation's deadline; what it could not get to is left for the next tick. Any number of these can
 * run at once (and beside the other functions' own redelivery): each segment is claimed by one
 * redeliverer at a time. With the object spool (`ROCKETMQ_SPOOL_URL`) it drains what every instance
 * spooled; with the file spool only what this instance's /tmp holds.
 */
export async function spoolRedeliver(_event: unknown, invocation: Invocation): Promise<SpoolRedeliverResult> {
  const report = await invocation.producer.redeliverSpool({ deadline: invocation.deadline });
  const result: SpoolRedeliverResult = {
    delivered: report.delivered,
    failed: report.failed,
    quarantined: report.quarantined + report.rejected,
    left: report.failed + report.remaining,
    spool: where(invocation),
  };
  invocation.logger.info({ message: 'spool redelivered', ...result });
  return result;
}
