import { createHmac, randomUUID } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http2';
import { hostname } from 'node:os';
import type { Credentials } from '../../config.js';

/**
 * The request metadata of the RocketMQ 5 gRPC protocol, as the official Node client sends it on every
 * call: protocol, client id, date-time, request id, language, client version, namespace, and with
 * credentials the STS token and an `MQv2-HMAC-SHA1` signature of the date-time.
 */

/** The protocol level of the official Node client whose requests this transport reproduces. */
export const CLIENT_VERSION = '1.0.8';
/** The official Node client says HTTP: the proxy's language enum has no entry for Node.js. */
const LANGUAGE = 'HTTP';

let clientIndex = 0;

/** `host@pid@index@base36-time`, the client id format of the official clients. */
export function createClientId(): string {
  return `${hostname()}@${process.pid}@${clientIndex++}@${Date.now().toString(36)}`;
}

/** `yyyyMMdd'T'HHmmss'Z'` in UTC. */
export function requestDateTime(epochMs: number): string {
  const iso = new Date(epochMs).toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}

/** Hex HMAC-SHA1 of the date-time with the secret, upper case like the official Node client. */
export function signature(accessSecret: string, dateTime: string): string {
  return createHmac('sha1', accessSecret).update(dateTime).digest('hex').toUpperCase();
}

export class RequestMetadata {
  readonly clientId: string;
  readonly #static: OutgoingHttpHeaders;
  readonly #credentials: Credentials | undefined;
  // The date-time has a resolution of one second, so it and its signature are made once per second.
  #second = -1;
  #dateTime = '';
  #authorization: string | undefined;

  constructor(namespace: string, credentials: Credentials | undefined, clientId = createClientId()) {
    this.clientId = clientId;
    this.#credentials = credentials;
    this.#static = {
      'x-mq-protocol': 'v2',
      'x-mq-client-id': this.clientId,
      'x-mq-language': LANGUAGE,
      'x-mq-client-version': CLIENT_VERSION,
      ...(namespace && { 'x-mq-namespace': namespace }),
      ...(credentials?.securityToken && { 'x-mq-session-token': credentials.securityToken }),
    };
  }

  /** Whether these headers were made for exactly these credentials. */
  isFor(credentials: Credentials | undefined): boolean {
    return credentials === this.#credentials;
  }

  /** Headers for one call made at `now`. */
  headers(now: number): OutgoingHttpHeaders {
    const second = Math.floor(now / 1000);
    if (second !== this.#second) {
      this.#second = second;
      this.#dateTime = requestDateTime(now);
      const credentials = this.#credentials;
      this.#authorization = credentials
        ? `MQv2-HMAC-SHA1 Credential=${credentials.accessKeyId}, SignedHeaders=x-mq-date-time, Signature=${signature(credentials.accessKeySecret, this.#dateTime)}`
        : undefined;
    }
    const headers: OutgoingHttpHeaders = {
      ...this.#static,
      'x-mq-date-time': this.#dateTime,
      'x-mq-request-id': randomUUID(),
    };
    if (this.#authorization) headers.authorization = this.#authorization;
    return headers;
  }
}
