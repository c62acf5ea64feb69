import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';

const ALGORITHM = 'MQv2-HMAC-SHA1';
const DATE_TIME_HEADER = 'x-mq-date-time';

/**
 * The RocketMQ 5 gRPC signature: HMAC-SHA1 keyed with the secret over the `x-mq-date-time` value, hex.
 * The Node client sends it upper-case, other SDKs lower-case; both are accepted.
 */
export function signDateTime(secret: string, dateTime: string): string {
  return createHmac('sha1', secret).update(dateTime).digest('hex').toUpperCase();
}

/** The `authorization` value a client with this key pair sends. */
export function authorizationHeader(accessKey: string, secret: string, dateTime: string): string {
  return `${ALGORITHM} Credential=${accessKey}, SignedHeaders=${DATE_TIME_HEADER}, Signature=${signDateTime(secret, dateTime)}`;
}

function firstValue(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Returns why a call is not authorized, or `undefined` when its signature is valid.
 * Like the proxy, only the date-time header is signed and its age is not checked; an STS
 * `x-mq-session-token` is accepted as sent, because its secret is what signed the call.
 */
export function authorizationError(
  metadata: Metadata,
  credentials: ReadonlyMap<string, string>,
): string | undefined {
  const header = firstValue(metadata, 'authorization');
  const dateTime = firstValue(metadata, DATE_TIME_HEADER);
  if (!header?.startsWith(`${ALGORITHM} `) || !dateTime) {
    return 'missing or malformed authorization header';
  }
  const fields = new Map<string, string>();
  for (const part of header.slice(ALGORITHM.length + 1).split(',')) {
    const separator = part.indexOf('=');
    if (separator > 0) fields.set(part.slice(0, separator).trim(), part.slice(separator + 1).trim());
  }
  // Some SDKs append `/<region or date>` after the access key.
  const accessKey = fields.get('Credential')?.split('/')[0];
  const signature = fields.get('Signature');
  const signedHeaders = fields.get('SignedHeaders')?.toLowerCase().split(';');
  if (!accessKey || !signature || !signedHeaders?.includes(DATE_TIME_HEADER)) {
    return 'missing or malformed authorization header';
  }
  const secret = credentials.get(accessKey);
  if (secret === undefined) return `unknown access key ${accessKey}`;
  const expected = Buffer.from(signDateTime(secret, dateTime).toLowerCase());
  const actual = Buffer.from(signature.toLowerCase());
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return 'signature mismatch';
  return undefined;
}
