/** Who deploys where: the FC API credentials, account and region, from the environment only. */

export interface DeploySettings {
  accountId: string;
  region: string;
  accessKeyId: string;
  accessKeySecret: string;
  /** STS token; only sent when the AccessKey id is an STS one (`STS.…`), as the SDK does. */
  securityToken?: string;
  /** The FC API base URL. @default https://<account>.<region>.fc.aliyuncs.com */
  endpoint: string;
}

const REQUIRED = [
  ['ALIBABA_CLOUD_ACCESS_KEY_ID', 'the AccessKey id that calls the FC API'],
  ['ALIBABA_CLOUD_ACCESS_KEY_SECRET', 'its AccessKey secret'],
  [
    'ALIBABA_CLOUD_ACCOUNT_ID',
    'the Alibaba Cloud account id (the FC endpoint and the OSS trigger ARN use it)',
  ],
  ['ALIBABA_CLOUD_REGION', 'the region to deploy to, e.g. cn-hangzhou'],
] as const;

export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

export function defaultEndpoint(accountId: string, region: string): string {
  return `https://${accountId}.${region}.fc.aliyuncs.com`;
}

/** Every missing value is reported at once, each in its own line; values never appear in messages. */
export function resolveSettings(env: NodeJS.ProcessEnv, endpoint?: string): DeploySettings {
  const problems = REQUIRED.filter(([name]) => !env[name]).map(([name, what]) => `missing ${name}: ${what}`);
  const securityToken = env.ALIBABA_CLOUD_SECURITY_TOKEN || undefined;
  const accessKeyId = env.ALIBABA_CLOUD_ACCESS_KEY_ID ?? '';
  if (accessKeyId.startsWith('STS.') && !securityToken) {
    problems.push('missing ALIBABA_CLOUD_SECURITY_TOKEN: an STS AccessKey id needs its security token');
  }
  if (endpoint !== undefined && !/^https?:\/\/[^/]+\/?$/.test(endpoint)) {
    problems.push(`--endpoint must be a base URL such as https://host:port, got "${endpoint}"`);
  }
  if (problems.length > 0) throw new SettingsError(problems);
  const accountId = env.ALIBABA_CLOUD_ACCOUNT_ID as string;
  const region = env.ALIBABA_CLOUD_REGION as string;
  return {
    accountId,
    region,
    accessKeyId,
    accessKeySecret: env.ALIBABA_CLOUD_ACCESS_KEY_SECRET as string,
    ...(securityToken && { securityToken }),
    endpoint: (endpoint ?? defaultEndpoint(accountId, region)).replace(/\/$/, ''),
  };
}

/** For a dry run: what is known, with `<NAME>` where a value is missing. No secret is read into it. */
export function describeTarget(
  env: NodeJS.ProcessEnv,
  endpoint?: string,
): { accountId: string; region: string; endpoint: string; missing: string[] } {
  const missing = REQUIRED.filter(([name]) => !env[name]).map(([name]) => name);
  const accountId = env.ALIBABA_CLOUD_ACCOUNT_ID || '<ALIBABA_CLOUD_ACCOUNT_ID>';
  const region = env.ALIBABA_CLOUD_REGION || '<ALIBABA_CLOUD_REGION>';
  return { accountId, region, endpoint: endpoint ?? defaultEndpoint(accountId, region), missing };
}
