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
  /** A producer on the broker, shut down after the test that made it. */
  producerFor(options?: ProducerOptions): Producer;
}

/**
 * One embedded broker per test file, with its faults reset and its producers shut down after every
 * test (producers first: their shutdown talks to the broker).
 */
export function useBroker(options?: LocalBrokerOptions): BrokerFixture {
  let broker: LocalBroker | undefined;
  const producers: Producer[] = [];
  beforeAll(async () => {
    // Tests read back with fresh consumer groups what they sent before: the broker's `oldest` start.
    broker = await startLocalBroker({ newGroupStart: 'oldest', ...options });
  });
  afterEach(async () => {
    broker?.faults.reset();
    await Promise.all(producers.splice(0).map((producer) => producer.shutdown({ timeoutMs: 10_000 })));
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
  };
}
