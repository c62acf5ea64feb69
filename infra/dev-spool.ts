/**
 * The dev server's spool routes, so a spooled message can be watched coming back:
 *   GET  /_dev/spool                  what the functions' spool holds (the shared producer's)
 *   POST /_dev/broker?sends=fail|ok   the embedded broker refuses every send (a retryable error, as a
 *                                     broker that is down would) or accepts them again
 */
import { getProducer } from '../lib/index.js';
import { FileSpool } from '../lib/spool/file-spool.js';
import { S3Spool } from '../lib/spool/s3-spool.js';
import type { LocalBroker } from './local-broker/index.js';

export const DEV_SPOOL_ROUTES: Record<string, string> = {
  '/_dev/spool': 'GET',
  '/_dev/broker': 'POST',
};

/** The status the broker answers refused sends with: an internal error, which the producer retries. */
const BROKER_DOWN_CODE = 50001;

class DevRouteError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const preview = (body: Buffer) => {
  const text = body.toString('utf8');
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
};

/** The answer of a spool route, or undefined when `url` is not one. */
export async function devSpoolRoute(url: URL, broker: LocalBroker | undefined): Promise<unknown> {
  if (url.pathname === '/_dev/spool') {
    const { spool } = getProducer();
    if (!spool) return { spool: 'none', records: [] };
    const location =
      spool instanceof S3Spool ? spool.location : spool instanceof FileSpool ? spool.dir : 'custom';
    const records = await spool.list();
    return {
      spool: location,
      records: records.map((record) => ({
        id: record.id,
        topic: record.message.topic,
        tag: record.message.tag,
        keys: record.message.keys,
        body: preview(record.message.body),
        error: record.error,
        spooledAt: new Date(record.spooledAt).toISOString(),
        redeliveryAttempts: record.redeliveryAttempts,
      })),
    };
  }
  if (url.pathname === '/_dev/broker') {
    if (!broker) {
      throw new DevRouteError(
        'NO_EMBEDDED_BROKER',
        'ROCKETMQ_ENDPOINTS points at a broker of your own: stop it to see sends fail',
      );
    }
    const sends = url.searchParams.get('sends');
    if (sends === 'fail') {
      broker.faults.failNextSends(Number.MAX_SAFE_INTEGER, BROKER_DOWN_CODE, 'the broker is down (dev)');
      return { sends: 'failing' };
    }
    if (sends === 'ok') {
      broker.faults.reset();
      return { sends: 'ok' };
    }
    throw new DevRouteError('BAD_REQUEST', '/_dev/broker takes ?sends=fail or ?sends=ok');
  }
  return undefined;
}
