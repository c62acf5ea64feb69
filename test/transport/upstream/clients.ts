import { Producer } from 'rocketmq-client-nodejs';
import { afterEach } from 'vitest';
import type { BrokerFixture } from '../../support/broker-fixture.js';
import { silentLogger } from '../../support/silent-logger.js';

/**
 * Official clients with none of our workarounds installed, for the tests that check a defect of
 * rocketmq-client-nodejs is still there. Each is shut down after its test, once the broker's faults
 * are off again (an unpatched shutdown fails while the broker does not answer).
 */
export function useOfficialClients(fixture: BrokerFixture): { create(): Producer } {
  const clients: Producer[] = [];
  afterEach(async () => {
    fixture.broker.faults.reset();
    await Promise.all(clients.splice(0).map((client) => client.shutdown().catch(() => undefined)));
  });
  return {
    create() {
      const client = new Producer({
        endpoints: fixture.broker.endpoint,
        namespace: '',
        requestTimeout: 1000,
        maxAttempts: 1,
        logger: silentLogger,
      });
      clients.push(client);
      return client;
    },
  };
}

/** The gRPC status or broker status a client call failed with, or `'answered'`. */
export function outcomeOf(call: Promise<unknown>): Promise<number | 'answered'> {
  return call.then(
    () => 'answered' as const,
    (error: unknown) => (error as { code: number }).code,
  );
}

/** What a test says when the defect it checks for is gone from the installed client. */
export function fixedUpstream(workaround: string): string {
  return `rocketmq-client-nodejs no longer shows this defect: ${workaround} may be removed (see its header)`;
}
