import type { Producer } from 'rocketmq-client-nodejs';
import { describe, expect, it, vi } from 'vitest';
import { routeOf } from '../../../lib/transport/official/internals.js';
import {
  guardTelemetryStreams,
  inertStream,
  keepErrorListener,
} from '../../../lib/transport/official/workarounds/telemetry-streams.js';
import { useBroker } from '../../support/broker-fixture.js';
import { fixedUpstream, useOfficialClients } from './clients.js';

const fixture = useBroker();
const clients = useOfficialClients(fixture);

type TelemetryStream = ReturnType<Producer['createTelemetryStream']>;

/**
 * Records the telemetry streams a client opens, and how many it asks for once `stopped()` is true;
 * those get an inert stream, so that a renewal after shutdown opens no connection in the test.
 */
function recordStreams(client: Producer, stopped: () => boolean) {
  const opened: TelemetryStream[] = [];
  let requestedAfterStop = 0;
  const create = client.createTelemetryStream.bind(client);
  client.createTelemetryStream = (endpoints) => {
    if (stopped()) {
      requestedAfterStop++;
      return inertStream() as unknown as TelemetryStream;
    }
    const stream = create(endpoints);
    opened.push(stream);
    return stream;
  };
  return {
    opened,
    get requestedAfterStop() {
      return requestedAfterStop;
    },
  };
}

function injectStreamFailure(stream: TelemetryStream): void {
  stream.emit('error', Object.assign(new Error('injected telemetry stream failure'), { code: 14 }));
}

describe('telemetry streams (lib/transport/official/workarounds/telemetry-streams.ts)', () => {
  it('upstream: a failed stream keeps no error listener, and shutdown leaves its renewal running', async () => {
    const client = clients.create({ containStreamErrors: false });
    let shutDown = false;
    const streams = recordStreams(client, () => shutDown);
    await client.startup();
    await routeOf(client, 'orders');
    const [stream] = streams.opened;
    if (!stream) throw new Error('the client opened no telemetry stream');

    injectStreamFailure(stream);
    // A later failure of this stream would be an uncaught exception.
    expect(stream.listenerCount('error'), fixedUpstream('telemetry-streams.ts')).toBe(0);
    keepErrorListener(stream);

    shutDown = true;
    await client.shutdown();
    // The renewal is due 1 s after the failure; give it ample time on a busy machine.
    await vi.waitFor(
      () => expect(streams.requestedAfterStop, fixedUpstream('telemetry-streams.ts')).toBeGreaterThan(0),
      { timeout: 15_000, interval: 100 },
    );
  });

  it('with the workaround, failed streams keep a listener and a retired client opens no stream', async () => {
    const client = clients.create({ containStreamErrors: false });
    let retired = false;
    const reachedClient = recordStreams(client, () => retired);
    guardTelemetryStreams(client, () => retired);
    let requestedAfterRetired = 0;
    const guarded = client.createTelemetryStream.bind(client);
    client.createTelemetryStream = (endpoints) => {
      if (retired) requestedAfterRetired++;
      return guarded(endpoints);
    };
    await client.startup();
    await routeOf(client, 'orders');
    const [stream] = reachedClient.opened;
    if (!stream) throw new Error('the client opened no telemetry stream');

    injectStreamFailure(stream);
    expect(stream.listenerCount('error')).toBeGreaterThan(0);

    retired = true;
    await client.shutdown();
    await vi.waitFor(() => expect(requestedAfterRetired).toBeGreaterThan(0), {
      timeout: 15_000,
      interval: 100,
    });
    expect(reachedClient.requestedAfterStop).toBe(0);
  });
});
