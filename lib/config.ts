import { ConfigError } from './errors.js';
import { DEFAULT_MAX_BODY_BYTES } from './message.js';
import { type Credentials, type Env, resolveCredentials } from './options/credentials.js';

export { type Credentials, type Env, resolveCredentials };

export interface RetryOptions {
  /** Attempts per send, the first one included. @default 3 */
  maxAttempts?: number;
  /** Backoff before the second attempt; doubles after each failure, with full jitter. @default 100 */
  baseDelayMs?: number;
  /** Upper bound of one backoff. @default 1000 */
  maxDelayMs?: number;
}

/** Every option has an environment fallback where one makes sense; options win. */
export interface ProducerConfigOptions {
  /** `host:port[;host:port]` of the gRPC endpoint. Env `ROCKETMQ_ENDPOINTS`. Required. */
  endpoints?: string;
  /** Instance id of ApsaraMQ (namespace). Env `ROCKETMQ_NAMESPACE`. @default '' */
  namespace?: string;
  /**
   * Env `ROCKETMQ_ACCESS_KEY` / `ROCKETMQ_SECRET_KEY` (e.g. an ApsaraMQ instance's username and password),
   * else `ALIBABA_CLOUD_ACCESS_KEY_ID` / `ALIBABA_CLOUD_ACCESS_KEY_SECRET` / `ALIBABA_CLOUD_SECURITY_TOKEN`.
   * @default none (the broker must allow anonymous access, as the embedded one does)
   */
  credentials?: Credentials;
  /** Upper bound of one whole send, retries included. Env `ROCKETMQ_SEND_TIMEOUT_MS`. @default 3000 */
  sendTimeoutMs?: number;
  /**
   * Upper bound of one attempt while more attempts remain; the last attempt may use all the time left.
   * Short enough that a connection that died silently while the instance was frozen is noticed and
   * replaced within the send timeout. @default half of `sendTimeoutMs`
   */
  attemptTimeoutMs?: number;
  /** TLS to the broker. Env `ROCKETMQ_SSL` (`true`/`false`). @default false */
  ssl?: boolean;
  retry?: RetryOptions;
  /** Largest body accepted before any I/O. @default 4 MiB */
  maxBodyBytes?: number;
  /**
   * How sends reach the broker: `lean` (SendMessage and QueryRoute over `node:http2`) or `official`
   * (the `rocketmq-client-nodejs` producer, loaded on first use; function bundles include it only when
   * built with `ROCKETMQ_TRANSPORT=official`). Env `ROCKETMQ_TRANSPORT`.
   * @default 'lean'
   */
  transport?: TransportChoice;
}

export type TransportChoice = 'lean' | 'official';
export const TRANSPORT_CHOICES: readonly TransportChoice[] = ['lean', 'official'];

export interface ResolvedConfig {
  endpoints: string;
  namespace: string;
  credentials: Credentials | undefined;
  sendTimeoutMs: number;
  attemptTimeoutMs: number;
  ssl: boolean;
  retry: Required<RetryOptions>;
  maxBodyBytes: number;
  transport: TransportChoice;
}

export const DEFAULTS = {
  namespace: '',
  sendTimeoutMs: 3000,
  ssl: false,
  retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000 },
  maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
  transport: 'lean' as TransportChoice,
} as const;

const CONFIG_KEYS = new Set([
  'endpoints',
  'namespace',
  'credentials',
  'sendTimeoutMs',
  'attemptTimeoutMs',
  'ssl',
  'retry',
  'maxBodyBytes',
  'transport',
]);
const RETRY_KEYS = new Set(['maxAttempts', 'baseDelayMs', 'maxDelayMs']);
const ENDPOINT_PATTERN = /^[A-Za-z0-9.[\]:_-]+:\d{1,5}$/;

/** Rejects keys that are not in `allowed`, naming them, so a typo never silently falls back to a default. */
export function rejectUnknownKeys(value: object, allowed: ReadonlySet<string>, where: string): void {
  const unknown = Object.keys(value).filter((key) => !allowed.has(key));
  if (unknown.length > 0) {
    throw new ConfigError(
      `unknown ${where} option${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')} (known: ${[...allowed].join(', ')})`,
    );
  }
}

function positiveInteger(value: unknown, name: string, min = 1): number {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < min) {
    throw new ConfigError(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(value)}`);
  }
  return number;
}

function parseBoolean(value: unknown, name: string): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0' || value === '') return false;
  throw new ConfigError(`${name} must be true or false, got ${JSON.stringify(value)}`);
}

function resolveEndpoints(value: string | undefined): string {
  if (value === undefined || value.trim() === '') {
    throw new ConfigError(
      'no RocketMQ endpoint: pass { endpoints: "host:port" } or set ROCKETMQ_ENDPOINTS ' +
        '(locally, `npm run broker` starts an embedded broker on 127.0.0.1:8081)',
    );
  }
  const list = value
    .split(/[;,]/)
    .map((part) => part.trim())
    .filter(Boolean);
  for (const endpoint of list) {
    if (!ENDPOINT_PATTERN.test(endpoint)) {
      throw new ConfigError(`endpoint "${endpoint}" is not host:port`);
    }
  }
  // The client joins several addresses with ';' into one gRPC target.
  return list.join(';');
}

/** The one place the transport choice is resolved: option, then `ROCKETMQ_TRANSPORT`, then the default. */
export function resolveTransport(option: unknown, env: Env = process.env): TransportChoice {
  const value = option ?? (env.ROCKETMQ_TRANSPORT?.trim() || undefined) ?? DEFAULTS.transport;
  if (!TRANSPORT_CHOICES.includes(value as TransportChoice)) {
    const name = option !== undefined ? 'transport' : 'ROCKETMQ_TRANSPORT';
    throw new ConfigError(
      `${name} must be one of ${TRANSPORT_CHOICES.join(', ')}, got ${JSON.stringify(value)}`,
    );
  }
  return value as TransportChoice;
}

/** Options first, then the environment, then {@link DEFAULTS}; unknown keys are rejected. */
export function resolveConfig(options: ProducerConfigOptions = {}, env: Env = process.env): ResolvedConfig {
  if (options === null || typeof options !== 'object') throw new ConfigError('options must be an object');
  const retryOption = options.retry ?? {};
  if (typeof retryOption !== 'object' || retryOption === null)
    throw new ConfigError('retry must be an object');
  rejectUnknownKeys(retryOption, RETRY_KEYS, 'retry');
  const retry = {
    maxAttempts: positiveInteger(retryOption.maxAttempts ?? DEFAULTS.retry.maxAttempts, 'retry.maxAttempts'),
    baseDelayMs: positiveInteger(
      retryOption.baseDelayMs ?? DEFAULTS.retry.baseDelayMs,
      'retry.baseDelayMs',
      0,
    ),
    maxDelayMs: positiveInteger(retryOption.maxDelayMs ?? DEFAULTS.retry.maxDelayMs, 'retry.maxDelayMs', 0),
  };
  const namespace = options.namespace ?? env.ROCKETMQ_NAMESPACE ?? DEFAULTS.namespace;
  if (typeof namespace !== 'string') throw new ConfigError('namespace must be a string');
  const sendTimeoutMs = positiveInteger(
    options.sendTimeoutMs ?? env.ROCKETMQ_SEND_TIMEOUT_MS ?? DEFAULTS.sendTimeoutMs,
    options.sendTimeoutMs !== undefined ? 'sendTimeoutMs' : 'ROCKETMQ_SEND_TIMEOUT_MS',
  );
  return {
    endpoints: resolveEndpoints(options.endpoints ?? env.ROCKETMQ_ENDPOINTS),
    namespace,
    credentials: resolveCredentials(options.credentials, env),
    sendTimeoutMs,
    attemptTimeoutMs: positiveInteger(
      options.attemptTimeoutMs ?? Math.ceil(sendTimeoutMs / 2),
      'attemptTimeoutMs',
    ),
    ssl: parseBoolean(options.ssl ?? env.ROCKETMQ_SSL ?? DEFAULTS.ssl, 'ssl / ROCKETMQ_SSL'),
    retry,
    maxBodyBytes: positiveInteger(options.maxBodyBytes ?? DEFAULTS.maxBodyBytes, 'maxBodyBytes', 0),
    transport: resolveTransport(options.transport, env),
  };
}

export { CONFIG_KEYS };
