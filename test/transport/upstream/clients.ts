import { Producer } from 'rocketmq-client-nodejs';
import { afterEach } from 'vitest';
import { keepErrorListener } from '../../../lib/transport/official/workarounds/telemetry-streams.js';
import type { BrokerFixture } from '../../support/broker-fixture.js';
import { silentLogger } from '../../support/silent-logger.js';

export interface ClientOptions {
  /**
   * The client's request timeout: long enough for an answer on a busy machine; the client's minimum
   * where a test waits for a call that is never answered. @default 3000
   */
  requestTimeout?: number;
  /**
   * Whether the telemetry streams keep an `error` listener once the client drops its own, so that a
   * late stream failure cannot crash the test process; off only where that defect is under test.
   * @default true
   */
  containStreamErrors?: boolean;
}

/**
 * Official clients with the workarounds under test left off, for the tests that check a defect of
 * rocketmq-client-nodejs is still there. Each is shut down after its test, once the broker's faults
 * are off again (an unpatched shutdown fails while the broker does not answer).
 */
export function useOfficialClients(fixture: BrokerFixture): { create(options?: ClientOptions): Producer } {
  const clients: Producer[] = [];
  afterEach(async () => {
    fixture.broker.faults.reset();
    await Promise.all(clients.splice(0).map((client) => client.shutdown().catch(() => undefined)));
  });
  return {
    create({ requestTimeout = 3000, containStreamErrors = true } = {}) {
      const client = new Producer({
        endpoints: fixture.broker.endpoint,
        namespace: '',
        requestTimeout,
        maxAttempts: 1,
        logger: silentLogger,
      });
      if (containStreamErrors) {
        const create = client.createTelemetryStream.bind(client);
        client.createTelemetryStream = (endpoints) => keepErrorListener(create(endpoints));
      }
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
