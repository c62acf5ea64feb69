import { ConfigError } from '../errors.js';

/** Credentials of an Alibaba Cloud RAM user or role; `securityToken` for STS. */
export interface Credentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

export type Env = Readonly<Record<string, string | undefined>>;

const CREDENTIAL_KEYS: readonly (keyof Credentials)[] = ['accessKeyId', 'accessKeySecret', 'securityToken'];

/** The environment variables credentials are read from, in the order they are tried. */
export const CREDENTIAL_ENV = {
  instance: ['ROCKETMQ_ACCESS_KEY', 'ROCKETMQ_SECRET_KEY', 'ROCKETMQ_SECURITY_TOKEN'],
  cloud: ['ALIBABA_CLOUD_ACCESS_KEY_ID', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET', 'ALIBABA_CLOUD_SECURITY_TOKEN'],
} as const;

/**
 * `ROCKETMQ_ACCESS_KEY` / `ROCKETMQ_SECRET_KEY` (ApsaraMQ instance username and password) win over the
 * `ALIBABA_CLOUD_*` AccessKey variables: FC 3.0 puts the function role's STS credentials under those
 * names, which are not what a RocketMQ instance with its own users expects.
 */
function credentialsFromEnv(env: Env) {
  const names =
    env.ROCKETMQ_ACCESS_KEY || env.ROCKETMQ_SECRET_KEY ? CREDENTIAL_ENV.instance : CREDENTIAL_ENV.cloud;
  return { accessKeyId: env[names[0]], accessKeySecret: env[names[1]], securityToken: env[names[2]], names };
}

/**
 * The one credential precedence: each field of the option, else the `ROCKETMQ_*` variables, else the
 * `ALIBABA_CLOUD_*` ones. `undefined` when none of them gives an AccessKey pair (anonymous access, or a
 * platform's own credentials, such as those in an FC context, may then apply). A half pair is a
 * {@link ConfigError} that names the missing half and never shows the other one.
 */
export function resolveCredentials(option: Credentials | undefined, env: Env): Credentials | undefined {
  if (option !== undefined) {
    if (option === null || typeof option !== 'object') throw new ConfigError('credentials must be an object');
    const unknown = Object.keys(option).filter((key) => !CREDENTIAL_KEYS.includes(key as keyof Credentials));
    if (unknown.length > 0) {
      throw new ConfigError(
        `unknown credentials option${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')} (known: ${CREDENTIAL_KEYS.join(', ')})`,
      );
    }
    for (const key of CREDENTIAL_KEYS) {
      if (option[key] !== undefined && typeof option[key] !== 'string') {
        throw new ConfigError(`credentials.${key} must be a string`);
      }
    }
  }
  const fromEnv = credentialsFromEnv(env);
  const accessKeyId = option?.accessKeyId ?? fromEnv.accessKeyId;
  const accessKeySecret = option?.accessKeySecret ?? fromEnv.accessKeySecret;
  const securityToken = option?.securityToken ?? fromEnv.securityToken;
  if (!accessKeyId && !accessKeySecret) {
    if (securityToken) throw new ConfigError('a security token was given without an AccessKey pair');
    return undefined;
  }
  // Name only which half is missing: the value of the other half must never reach an error message.
  if (!accessKeyId)
    throw new ConfigError(`AccessKey secret given without an AccessKey id (${fromEnv.names[0]})`);
  if (!accessKeySecret) {
    throw new ConfigError(`AccessKey id given without an AccessKey secret (${fromEnv.names[1]})`);
  }
  return securityToken ? { accessKeyId, accessKeySecret, securityToken } : { accessKeyId, accessKeySecret };
}
