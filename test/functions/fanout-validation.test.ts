import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fcContext, lambdaContext } from '../../infra/emulate.js';
import { ErrorCode, MessageValidationError, shutdownSharedProducer } from '../../lib/index.js';
import { useBroker } from '../support/broker-fixture.js';

const fixture = useBroker();

beforeAll(() => {
  process.env.ROCKETMQ_ENDPOINTS = fixture.broker.endpoint;
});
afterAll(async () => {
  await shutdownSharedProducer({ timeoutMs: 1000 });
});

/** The sample event with the key of its second object replaced. */
async function eventWithSecondKey(path: string, key: string): Promise<Record<string, unknown>> {
  const event = JSON.parse(await readFile(path, 'utf8'));
  const records = event.events ?? event.Records;
  const second = records[1];
  if (second.oss) second.oss.object.key = key;
  else second.s3.object.key = key;
  return event;
}

async function failure(run: Promise<unknown>): Promise<MessageValidationError> {
  const outcome = await run.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(MessageValidationError);
  return outcome as MessageValidationError;
}

describe('object-fanout with an object key a RocketMQ proxy would reject', () => {
  it('FC (OSS, raw key): fails the event with MESSAGE_INVALID and sends none of its objects', async () => {
    const { handler } = await import('../../functions/object-fanout/fc.js');
    const before = fixture.broker.stats().sendMessageCalls;
    const event = await eventWithSecondKey('events/fc/oss-put.json', 'uploads/2026/11/bad\u0001name.csv');
    const error = await failure(handler(Buffer.from(JSON.stringify(event)), fcContext('object-fanout', 10)));
    expect(error.code).toBe(ErrorCode.MESSAGE_INVALID);
    expect(error.field).toBe('keys[0]');
    expect(error.message).toContain('control characters');
    expect(error.message).toContain('bad\\u0001name');
    expect(fixture.broker.stats().sendMessageCalls).toBe(before);
    expect(fixture.broker.messages('object-events')).toEqual([]);
  });

  it('AWS (S3, URL-encoded key): a %1B in the key fails the event the same way, nothing sent', async () => {
    const { handler } = await import('../../functions/object-fanout/aws.js');
    const before = fixture.broker.stats().sendMessageCalls;
    const event = await eventWithSecondKey('events/aws/s3-put.json', 'uploads/escape%1Bsequence.csv');
    const error = await failure(
      (handler as (event: unknown, context: unknown) => Promise<unknown>)(
        event,
        lambdaContext('object-fanout', 10),
      ),
    );
    expect(error).toMatchObject({ code: ErrorCode.MESSAGE_INVALID, field: 'keys[0]', retryable: false });
    expect(fixture.broker.stats().sendMessageCalls).toBe(before);
    expect(fixture.broker.messages('object-events')).toEqual([]);
  });
});
