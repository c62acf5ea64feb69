import { ConfigError } from './errors.js';
import { DEFAULT_MAX_BODY_BYTES } from './message.js';
import { type Credentials, type Env, resolveCredentials } from './options/credentials.js';
import { boolean, given, integer, oneOf, text } from './options/kinds.js';
import {
  defaultsOf,
  group,
  type OptionsOf,
  option,
  type ResolvedOf,
  rejectUnknownKeys,
  resolveOptions,
} from './options/schema.js';

export { type Credentials, type Env, rejectUnknownKeys, resolveCredentials };

export const TRANSPORT_CHOICES = ['lean', 'official'] as const;
export type TransportChoice = (typeof TRANSPORT_CHOICES)[number];

const ENDPOINT_PATTERN = /^[A-Za-z0-9.[\]:_-]+:\d{1,5}$/;

/** `host:port` addresses split on `;` or `,`, joined with `;`: the client's one gRPC target. */
function endpointList(value: string): string {
  const list = value
    .split(/[;,]/)
    .map((part) => part.trim())
    .filter(Boolean);
  if (list.length === 0) throw new ConfigError(NO_ENDPOINT, { field: 'endpoints' });
  for (const endpoint of list) {
    if (!ENDPOINT_PATTERN.test(endpoint)) {
      throw new ConfigError(`endpoint "${endpoint}" is not host:port`, { field: 'endpoints' });
    }
  }
  return list.join(';');
}

const NO_ENDPOINT =
  'no RocketMQ endpoint: pass { endpoints: "host:port" } or set ROCKETMQ_ENDPOINTS ' +
  '(locally, `npm run broker` starts an embedded broker on 127.0.0.1:8081)';

const credentials = given<Credentials>(
  '{ accessKeyId, accessKeySecret, securityToken? }',
  (value) => value !== null && typeof value === 'object',
);

/** The options of a RocketMQ client connection, shared by the producer and the consumers. */
export const CLIENT_OPTIONS = {
  /**
   * The gRPC endpoint of the RocketMQ proxy, `host:port[;host:port]` (ApsaraMQ: the instance endpoint).
   * @default required; a clear `CONFIG_INVALID` error if missing
   */
  endpoints: option(text, { env: 'ROCKETMQ_ENDPOINTS', required: NO_ENDPOINT, finish: endpointList }),
  /** Instance id of ApsaraMQ (the namespace); empty for Apache RocketMQ. */
  namespace: option(text, { env: 'ROCKETMQ_NAMESPACE', default: '' }),
  /**
   * AccessKey pair: `accessKeyId`, `accessKeySecret`, and `securityToken` for STS; e.g. an ApsaraMQ
   * instance's username and password. Each field falls back to the environment on its own.
   * @env `ROCKETMQ_ACCESS_KEY` / `ROCKETMQ_SECRET_KEY` / `ROCKETMQ_SECURITY_TOKEN`, else
   * `ALIBABA_CLOUD_ACCESS_KEY_ID` / `ALIBABA_CLOUD_ACCESS_KEY_SECRET` / `ALIBABA_CLOUD_SECURITY_TOKEN`
   * @default none (the broker must allow anonymous access, as the embedded one does); on FC, the function
   * role's STS credentials from the context
   */
  credentials: option(credentials, { resolve: resolveCredentials }),
  /** Upper bound of one whole send, retries included. */
  sendTimeoutMs: option(integer(1), { env: 'ROCKETMQ_SEND_TIMEOUT_MS', default: 3000 }),
  /**
   * Upper bound of one attempt while more attempts remain; the last attempt may use all the time left.
   * Short enough that a connection that died silently while the instance was frozen is noticed and
   * replaced within the send timeout.
   * @default half of `sendTimeoutMs`
   */
  attemptTimeoutMs: option(integer(1), {
    default: (resolved) => Math.ceil((resolved.sendTimeoutMs as number) / 2),
  }),
  /** TLS to the broker. */
  ssl: option(boolean, { env: 'ROCKETMQ_SSL', default: false }),
  /** Retries of a failed send. */
  retry: group({
    /** Attempts per send, the first one included. */
    maxAttempts: option(integer(1), { default: 3 }),
    /** Backoff before the second attempt; doubles after each failure, with full jitter. */
    baseDelayMs: option(integer(0), { default: 100 }),
    /** Upper bound of one backoff. */
    maxDelayMs: option(integer(0), { default: 1000 }),
  }),
  /** Largest message body accepted, checked before any I/O. */
  maxBodyBytes: option(integer(0), { default: DEFAULT_MAX_BODY_BYTES }),
  /**
   * How sends reach the broker: `lean` (SendMessage and QueryRoute over `node:http2`) or `official` (the
   * `rocketmq-client-nodejs` producer, loaded on first use; function bundles include it only when built
   * with `ROCKETMQ_TRANSPORT=official`). See [Transports](#transports).
   */
  transport: option(oneOf(TRANSPORT_CHOICES), { env: 'ROCKETMQ_TRANSPORT', default: 'lean' }),
};

/**
 * Every option has an environment fallback where one makes sense; options win. Each option's doc, bound
 * and default are on its entry in {@link CLIENT_OPTIONS} (and in the README's configuration table).
 */
export type ProducerConfigOptions = OptionsOf<typeof CLIENT_OPTIONS>;
export type RetryOptions = NonNullable<ProducerConfigOptions['retry']>;
export type ResolvedConfig = ResolvedOf<typeof CLIENT_OPTIONS>;

/** The plain defaults, read from {@link CLIENT_OPTIONS}. */
export const DEFAULTS = defaultsOf(CLIENT_OPTIONS);

/** Options first, then the environment, then the defaults; unknown keys are rejected. */
export function resolveConfig(options: ProducerConfigOptions = {}, env: Env = process.env): ResolvedConfig {
  return resolveOptions(CLIENT_OPTIONS, options, env, 'client');
}

/** The transport choice alone (the build asks for it): option, then `ROCKETMQ_TRANSPORT`, then the default. */
export function resolveTransport(option: unknown, env: Env = process.env): TransportChoice {
  return resolveOptions({ transport: CLIENT_OPTIONS.transport }, { transport: option }, env, 'client')
    .transport;
}
