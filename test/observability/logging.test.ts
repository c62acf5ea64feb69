import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalBroker, startLocalBroker } from '../../infra/local-broker/index.js';
import { createProducer } from '../../lib/index.js';

/** A Powertools logger that keeps its records instead of printing them. */
class CapturingLogger extends Logger {
  readonly records: Array<Record<string, unknown>> = [];
  protected override printLog(_level: number, log: Parameters<Logger['printLog']>[1]): void {
    this.records.push(log.getAttributes() as Record<string, unknown>);
  }
}

let broker: LocalBroker;
beforeAll(async () => {
  broker = await startLocalBroker();
});
afterAll(async () => {
  await broker.stop();
});

describe('send log lines', () => {
  it('carry the message id and keys at DEBUG, and nothing per send above it', async () => {
    const debug = new CapturingLogger({ logLevel: 'DEBUG' });
    const producer = createProducer({ endpoints: broker.endpoint, logger: debug });
    const result = await producer.send({ topic: 'orders', keys: ['ORDERID_42'], body: 'x' });
    await producer.sendAsync({ topic: 'orders', keys: ['ORDERID_43'], body: 'y' });
    const sent = debug.records.filter((r) => r.message === 'sent');
    expect(sent).toContainEqual(
      expect.objectContaining({ messageId: result.messageId, keys: ['ORDERID_42'], mode: 'sync' }),
    );
    expect(sent).toContainEqual(expect.objectContaining({ keys: ['ORDERID_43'], mode: 'async' }));
    await producer.shutdown();

    const info = new CapturingLogger({ logLevel: 'INFO' });
    const quiet = createProducer({ endpoints: broker.endpoint, logger: info });
    await quiet.send({ topic: 'orders', keys: ['ORDERID_44'], body: 'z' });
    expect(info.records.filter((r) => r.message === 'sent')).toEqual([]);
    await quiet.shutdown();
    // Shutdown reports the producer's stats once.
    expect(info.records.find((r) => r.message === 'RocketMQ producer shut down')).toMatchObject({
      stats: expect.objectContaining({ sync: expect.objectContaining({ sent: 1 }) }),
    });
  });
});
