import type { Credentials } from '../config.js';
import type { RocketMQError } from '../errors.js';
import type { LibraryLog } from '../log.js';
import { classifyError } from './classify.js';
import { settledBy, withDeadline } from './deadline.js';
import type { Transport } from './transport.js';

/**
 * Starts the client and looks up the routes of `topics` by `deadline`. Failures are logged and
 * returned, never thrown: the first send retries them.
 */
export async function warmUpTransport(
  transport: Transport,
  logger: LibraryLog,
  topics: readonly string[],
  deadline: number,
): Promise<RocketMQError | undefined> {
  try {
    await withDeadline(transport.warmUp(topics), deadline, topics.join(',') || '(no topic)');
    return undefined;
  } catch (thrown) {
    const error = classifyError(thrown, { topic: topics.join(',') });
    logger.warn({ message: 'producer warm-up failed; the first send will retry', code: error.code, topics });
    return error;
  }
}

/**
 * Closes the client, waiting for it until `deadline`; a client that has not closed by then (its
 * goodbye to an unreachable broker) finishes closing in the background.
 */
export async function closeTransport(
  transport: Transport,
  logger: LibraryLog,
  deadline: number,
  stats: () => unknown,
): Promise<void> {
  const closed = transport.close().catch((error: unknown) => {
    logger.warn({ message: 'closing the RocketMQ client failed', error: error as Error });
  });
  const inTime = await settledBy(closed, deadline);
  logger.info({
    message: inTime
      ? 'RocketMQ producer shut down'
      : 'RocketMQ producer shut down; the client goes on closing in the background',
    stats: stats(),
  });
}

/** Whether two sets of credentials are the same, so that the client need not be replaced. */
export function sameCredentials(a: Credentials | undefined, b: Credentials | undefined): boolean {
  return (
    a?.accessKeyId === b?.accessKeyId &&
    a?.accessKeySecret === b?.accessKeySecret &&
    a?.securityToken === b?.securityToken
  );
}
