import { execFile } from 'node:child_process';
import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../lib/entries/advanced.js';
import { createProducer, ErrorCode } from '../../lib/index.js';
import { useBroker } from '../support/broker-fixture.js';

// Planted values: if any of them shows up in an output, a secret leaked.
const ACCESS_KEY = 'LTAI5tPlantedKeyId';
const SECRET = 'planted-SECRET-7f3a9c2d41e8';
const WRONG_SECRET = 'planted-WRONG-secret-0b77e1';
const TOKEN = 'planted-STS-TOKEN-91bd5a0c';
const SECRETS = [SECRET, WRONG_SECRET, TOKEN];

class CapturingLogger extends Logger {
  readonly lines: string[] = [];
  protected override printLog(_level: number, log: Parameters<Logger['printLog']>[1]): void {
    this.lines.push(JSON.stringify(log.getAttributes()));
  }
}

function expectNoSecret(text: string): void {
  for (const secret of SECRETS) expect(text).not.toContain(secret);
}

function describeError(error: unknown): string {
  const e = error as Error & { cause?: unknown };
  return [
    JSON.stringify(error),
    String(error),
    e.stack,
    String(e.cause),
    (e.cause as Error | undefined)?.stack,
  ].join('\n');
}

const fixture = useBroker({ credentials: { [ACCESS_KEY]: SECRET } });

describe('secrets stay secret', () => {
  it('a producer signing with STS credentials sends, and nothing it logs, throws or counts holds a secret', async () => {
    const logger = new CapturingLogger({ logLevel: 'DEBUG' });
    const producer = createProducer({
      endpoints: fixture.broker.endpoint,
      credentials: { accessKeyId: ACCESS_KEY, accessKeySecret: SECRET, securityToken: TOKEN },
      logger,
    });
    await expect(
      producer.send({ topic: 'orders', keys: ['ORDERID_1'], body: 'signed' }),
    ).resolves.toMatchObject({
      topic: 'orders',
    });
    const error = await producer.send({ topic: 'no-such-topic', body: 'x' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.TOPIC_NOT_FOUND });
    expectNoSecret(describeError(error));
    expectNoSecret(JSON.stringify(producer.stats()));
    await producer.shutdown();
    expect(logger.lines.length).toBeGreaterThan(5);
    expectNoSecret(logger.lines.join('\n'));
  });

  it('a wrong secret fails with UNAUTHORIZED at once, without the secret in the error or the logs', async () => {
    const logger = new CapturingLogger({ logLevel: 'DEBUG' });
    const producer = createProducer({
      endpoints: fixture.broker.endpoint,
      credentials: { accessKeyId: ACCESS_KEY, accessKeySecret: WRONG_SECRET },
      logger,
    });
    const before = fixture.broker.stats().sendMessageCalls;
    const error = await producer.send({ topic: 'orders', body: 'x' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.UNAUTHORIZED, retryable: false, attempts: 1 });
    expect(fixture.broker.stats().sendMessageCalls - before).toBeLessThanOrEqual(1);
    expectNoSecret(describeError(error));
    await producer.shutdown();
    expectNoSecret(logger.lines.join('\n'));
  });

  it('the logger redacts secret-looking keys wherever they appear', () => {
    const lines: string[] = [];
    const logger = createLogger('redaction-test');
    const original = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => {
      lines.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      logger.setLogLevel('INFO');
      logger.info('config', {
        credentials: { accessKeyId: ACCESS_KEY, accessKeySecret: SECRET, securityToken: TOKEN },
        headers: { authorization: `MQv2-HMAC-SHA1 Credential=${ACCESS_KEY}, Signature=${SECRET}` },
      });
    } finally {
      process.stdout.write = original;
    }
    expect(lines.join('')).toContain('[REDACTED]');
    expectNoSecret(lines.join(''));
  });

  it.each([
    ['good credentials', SECRET, 0],
    ['a wrong secret', WRONG_SECRET, 1],
  ])(
    'local invoke with %s prints no secret on stdout or stderr, even at DEBUG',
    async (_name, secret, exitCode) => {
      const run = await new Promise<{ code: number; output: string }>((resolve) => {
        execFile(
          process.execPath,
          [
            '--import',
            'tsx',
            'infra/invoke.ts',
            '-f',
            'order-confirmation',
            '-p',
            'events/fc/http-order.json',
            '--tail',
            '--fail-on-http-error',
          ],
          {
            env: {
              ...process.env,
              ROCKETMQ_ENDPOINTS: fixture.broker.endpoint,
              ALIBABA_CLOUD_ACCESS_KEY_ID: ACCESS_KEY,
              ALIBABA_CLOUD_ACCESS_KEY_SECRET: secret,
              ALIBABA_CLOUD_SECURITY_TOKEN: TOKEN,
              POWERTOOLS_LOG_LEVEL: 'DEBUG',
            },
            timeout: 30_000,
          },
          (error, stdout, stderr) =>
            resolve({ code: error ? Number(error.code ?? 1) : 0, output: stdout + stderr }),
        );
      });
      expect(run.code).toBe(exitCode);
      expect(run.output.length).toBeGreaterThan(100);
      expectNoSecret(run.output);
    },
  );
});
