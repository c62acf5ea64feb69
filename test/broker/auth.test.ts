import { Metadata } from '@grpc/grpc-js';
import definitionPb from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import servicePb, {
  type TelemetryCommand,
} from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import { describe, expect, it } from 'vitest';
import { authorizationError } from '../../infra/local-broker/auth.js';
import { authorizationHeader, signDateTime } from '../../infra/local-broker/index.js';
import { useBroker } from '../support/broker-fixture.js';
import {
  clientMetadata,
  failureCode,
  message,
  rawClient,
  shutDownClientsAfterEach,
  startConsumer,
  startProducer,
} from './support.js';

const credentials = { AK1: 'secret-1', AK2: 'secret-2' };

const fixture = useBroker({ credentials });
shutDownClientsAfterEach();

describe('signature check', () => {
  const dateTime = '20261125T224130Z';
  const keys = new Map(Object.entries(credentials));
  const metadataWith = (
    authorization: string,
    headers: Record<string, string> = { 'x-mq-date-time': dateTime },
  ) => {
    const metadata = new Metadata();
    metadata.set('authorization', authorization);
    for (const [key, value] of Object.entries(headers)) metadata.set(key, value);
    return metadata;
  };

  it('accepts the signature in upper or lower case and an access key with a suffix', () => {
    const signature = signDateTime('secret-1', dateTime);
    expect(signature).toMatch(/^[0-9A-F]{40}$/);
    expect(
      authorizationError(metadataWith(authorizationHeader('AK1', 'secret-1', dateTime)), keys),
    ).toBeUndefined();
    const lower = `MQv2-HMAC-SHA1 Credential=AK1/cn-hangzhou, SignedHeaders=x-mq-date-time, Signature=${signature.toLowerCase()}`;
    expect(authorizationError(metadataWith(lower), keys)).toBeUndefined();
  });

  it('names what is wrong', () => {
    expect(authorizationError(new Metadata(), keys)).toBe('missing or malformed authorization header');
    expect(authorizationError(metadataWith(authorizationHeader('AK1', 'secret-1', dateTime), {}), keys)).toBe(
      'missing or malformed authorization header',
    );
    expect(authorizationError(metadataWith(authorizationHeader('AK3', 'secret-1', dateTime)), keys)).toBe(
      'unknown access key AK3',
    );
    expect(authorizationError(metadataWith(authorizationHeader('AK1', 'secret-2', dateTime)), keys)).toBe(
      'signature mismatch',
    );
    const unsigned = `MQv2-HMAC-SHA1 Credential=AK1, SignedHeaders=x-mq-other, Signature=${signDateTime('secret-1', dateTime)}`;
    expect(authorizationError(metadataWith(unsigned), keys)).toBe(
      'missing or malformed authorization header',
    );
  });
});

describe('with credentials configured', () => {
  it('serves clients that sign with a configured key pair, STS token included', async () => {
    const producer = await startProducer(fixture.broker, {
      topics: ['orders'],
      sessionCredentials: { accessKey: 'AK2', accessSecret: 'secret-2', securityToken: 'sts-token' },
    });
    const receipt = await producer.send(message('orders', 'signed'));
    const consumer = await startConsumer(
      fixture.broker,
      'signed-reader',
      { orders: '*' },
      { sessionCredentials: { accessKey: 'AK1', accessSecret: 'secret-1' } },
    );
    const [view] = await consumer.receive(1, 15_000);
    expect(view?.messageId).toBe(receipt.messageId);
    if (view) await consumer.ack(view);
  });

  it('answers 40100 to a wrong secret and to a missing signature', async () => {
    const wrong = await startProducer(fixture.broker, {
      maxAttempts: 1,
      sessionCredentials: { accessKey: 'AK1', accessSecret: 'not-the-secret' },
    });
    const sending = wrong.send(message('orders', 'x'));
    await expect(sending).rejects.toThrow(/signature mismatch/);
    expect(await failureCode(sending)).toBe(40100);
    const anonymous = await startProducer(fixture.broker, { maxAttempts: 1 });
    expect(await failureCode(anonymous.send(message('orders', 'x')))).toBe(40100);
    expect(fixture.broker.messages('orders').map((stored) => stored.body.toString())).toEqual(['signed']);
  });

  it('answers an unsigned Telemetry stream with a 40100 status command', async () => {
    const client = rawClient(fixture.broker);
    const stream = client.telemetry(clientMetadata());
    const reply = new Promise<TelemetryCommand>((resolve, reject) => {
      stream.once('data', resolve);
      stream.once('error', reject);
    });
    stream.write(
      new servicePb.TelemetryCommand().setSettings(
        new definitionPb.Settings().setClientType(definitionPb.ClientType.PRODUCER),
      ),
    );
    const command = await reply;
    expect(command.getStatus()?.getCode()).toBe(40100);
    expect(command.hasSettings()).toBe(false);
    stream.end();
  });
});
