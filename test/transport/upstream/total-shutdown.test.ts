import { describe, expect, it, vi } from 'vitest';
import { routeOf } from '../../../lib/transport/official/internals.js';
import { makeShutdownTotal } from '../../../lib/transport/official/workarounds/total-shutdown.js';
import { useBroker } from '../../support/broker-fixture.js';
import { fixedUpstream, outcomeOf, useOfficialClients } from './clients.js';

const fixture = useBroker();
const clients = useOfficialClients(fixture);
const DEADLINE_EXCEEDED = 4;

describe('total shutdown (lib/transport/official/workarounds/total-shutdown.ts)', () => {
  it('upstream: shutdown fails while the broker does not answer and never closes the channels', async () => {
    const client = clients.create();
    await client.startup();
    await routeOf(client, 'orders');
    const closeChannels = vi.spyOn(client.getRpcClientManager(), 'close');

    fixture.broker.faults.blackhole(true);
    expect(await outcomeOf(client.shutdown()), fixedUpstream('total-shutdown.ts')).toBe(DEADLINE_EXCEEDED);
    expect(closeChannels, fixedUpstream('total-shutdown.ts')).not.toHaveBeenCalled();

    // Once the broker answers again, a second shutdown gets to the end.
    fixture.broker.faults.blackhole(false);
    await client.shutdown();
    expect(closeChannels).toHaveBeenCalledOnce();
  });

  it('with the workaround, shutdown closes the channels although the broker does not answer', async () => {
    const client = clients.create();
    makeShutdownTotal(client);
    await client.startup();
    await routeOf(client, 'orders');
    const closeChannels = vi.spyOn(client.getRpcClientManager(), 'close');

    fixture.broker.faults.blackhole(true);
    expect(await outcomeOf(client.shutdown())).toBe('answered');
    expect(closeChannels).toHaveBeenCalledOnce();
  });
});
