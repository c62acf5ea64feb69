import { describe, expect, it } from 'vitest';
import { clientConfig, connectS3, type S3ClientLike } from '../../../lib/spool/s3-client.js';
import { FakeS3 } from './fake-s3.js';

/** How the object spool's client is configured: options first, then the environment, then defaults. */

describe('clientConfig', () => {
  it('defaults to us-east-1, virtual-host style, checksums only when required', () => {
    expect(clientConfig({}, {})).toEqual({
      region: 'us-east-1',
      forcePathStyle: false,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  });

  it('takes options over the environment, and the spool variables over AWS_REGION', () => {
    const env = {
      ROCKETMQ_SPOOL_S3_REGION: 'eu-west-1',
      AWS_REGION: 'us-west-2',
      ROCKETMQ_SPOOL_S3_PATH_STYLE: 'true',
    };
    expect(clientConfig({}, env)).toMatchObject({ region: 'eu-west-1', forcePathStyle: true });
    expect(clientConfig({ region: 'ap-south-1', forcePathStyle: false }, env)).toMatchObject({
      region: 'ap-south-1',
      forcePathStyle: false,
    });
  });

  it("on an OSS endpoint takes the region from the host and FC's role credentials when no AWS key is set", () => {
    const env = {
      ROCKETMQ_SPOOL_S3_ENDPOINT: 'https://oss-cn-hangzhou-internal.aliyuncs.com',
      ALIBABA_CLOUD_ACCESS_KEY_ID: 'id',
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'secret',
      ALIBABA_CLOUD_SECURITY_TOKEN: 'token',
    };
    expect(clientConfig({}, env)).toMatchObject({
      endpoint: 'https://oss-cn-hangzhou-internal.aliyuncs.com',
      region: 'cn-hangzhou',
      credentials: { accessKeyId: 'id', secretAccessKey: 'secret', sessionToken: 'token' },
    });
    expect(clientConfig({}, { ...env, AWS_ACCESS_KEY_ID: 'aws' })).not.toHaveProperty('credentials');
  });
});

describe('connectS3', () => {
  function recordingClient() {
    const added: Array<(next: (args: unknown) => Promise<unknown>) => (args: unknown) => Promise<unknown>> =
      [];
    const client: S3ClientLike = {
      send: async () => ({}),
      middlewareStack: { add: (middleware) => added.push(middleware as (typeof added)[number]) },
    };
    return { client, added };
  }

  it('on an OSS endpoint adds x-oss-forbid-overwrite to every create-only request', async () => {
    const { client, added } = recordingClient();
    await connectS3({ sdk: new FakeS3().sdk(), client, endpoint: 'https://oss-cn-beijing.aliyuncs.com' });
    expect(added).toHaveLength(1);
    const seen: Array<Record<string, string>> = [];
    const handler = (added[0] as (typeof added)[number])(async (args) => {
      seen.push({ ...(args as { request: { headers: Record<string, string> } }).request.headers });
      return {};
    });
    await handler({ request: { headers: { 'if-none-match': '*' } } });
    await handler({ request: { headers: {} } });
    expect(seen).toEqual([{ 'if-none-match': '*', 'x-oss-forbid-overwrite': 'true' }, {}]);
  });

  it('elsewhere leaves the client as it is', async () => {
    const { client, added } = recordingClient();
    await connectS3({ sdk: new FakeS3().sdk(), client, endpoint: 'http://127.0.0.1:9000' });
    expect(added).toEqual([]);
  });
});
