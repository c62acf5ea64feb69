import { afterAll, afterEach, beforeAll } from 'vitest';
import {
  type LocalBroker,
  type LocalBrokerOptions,
  startLocalBroker,
} from '../../infra/local-broker/index.js';
import { createProducer, type Producer, type ProducerOptions } from '../../lib/index.js';

export interface BrokerFixture {
  /** The file's broker, started before its first test. */
  readonly broker: LocalBroker;
  /** A producer on the file's broker, shut down after the test that made it. */
  producerFor(options?: ProducerOptions): Producer;
  /**
   * Another broker with its own options (a size limit, credentials, a restart to survive), stopped
   * after the test that started it. Stopping it earlier inside the test is fine.
   */
  startBroker(options?: LocalBrokerOptions): Promise<LocalBroker>;
}

/**
 * One embedded broker per test file, with its faults reset and its producers and extra brokers shut
 * down after every test (producers first: their shutdown talks to the broker).
 *
 * Tests read back with fresh consumer groups what they sent before, so brokers start new groups at the
 * `oldest` message unless the options say otherwise.
 */
export function useBroker(options?: LocalBrokerOptions): BrokerFixture {
  let broker: LocalBroker | undefined;
  const producers: Producer[] = [];
  const extraBrokers: LocalBroker[] = [];
  beforeAll(async () => {
    broker = await startLocalBroker({ newGroupStart: 'oldest', ...options });
  });
  afterEach(async () => {
    broker?.faults.reset();
    await Promise.all(producers.splice(0).map((producer) => producer.shutdown({ timeoutMs: 10_000 })));
    await Promise.all(extraBrokers.splice(0).map((extra) => extra.stop()));
  });
  afterAll(async () => {
    await broker?.stop();
  });
  return {
    get broker() {
      if (!broker) throw new Error('the broker starts in beforeAll; use it inside tests');
      return broker;
    },
    producerFor(producerOptions = {}) {
      const producer = createProducer({ endpoints: this.broker.endpoint, ...producerOptions });
      producers.push(producer);
      return producer;
    },
    async startBroker(extraOptions = {}) {
      const extra = await startLocalBroker({ newGroupStart: 'oldest', ...extraOptions });
      extraBrokers.push(extra);
      return extra;
    },
  };
}
