import { ErrorCode, isRocketMQError, RocketMQError } from '../errors.js';
import type { ProcessReport } from './processor.js';

/**
 * Thrown by `processMessages` when the batch must be delivered again: under the `'throw'` policy when
 * any message failed, under `'retry-topic'` when a failed message could not be forwarded. The platform
 * then retries the whole event (FC) or the messages come back when their invisible duration ends (pull
 * consumer). `code` is the first failure's code when it has one.
 */
export class BatchFailedError<R = unknown> extends RocketMQError {
  override readonly name: string = 'BatchFailedError';
  readonly report: ProcessReport<R>;

  constructor(message: string, report: ProcessReport<R>, firstError: unknown) {
    super(isRocketMQError(firstError) ? firstError.code : ErrorCode.UNKNOWN, message, { cause: firstError });
    this.report = report;
  }

  override toJSON(): Record<string, unknown> {
    const { processed, failed, retried, deadLettered, duplicates } = this.report;
    return { ...super.toJSON(), processed, failed, retried, deadLettered, duplicates };
  }
}
