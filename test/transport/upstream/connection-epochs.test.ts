import grpcService from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_grpc_pb.js';
import { describe, expect, it } from 'vitest';
import { routeOf } from '../../../lib/transport/official/internals.js';
import { useFreshConnections } from '../../../lib/transport/official/workarounds/connection-epochs.js';
import { useBroker } from '../../support/broker-fixture.js';
import { fixedUpstream, outcomeOf, useOfficialClients } from './clients.js';

const fixture = useBroker();
const clients = useOfficialClients(fixture);
const GENERATED_CLIENT = grpcService.MessagingServiceClient;
const DEADLINE_EXCEEDED = 4;

// The workaround replaces a module export for the whole process, so the unpatched case runs first.
describe('connection epochs (lib/transport/official/workarounds/connection-epochs.ts)', () => {
  it('upstream: a client created after its connection went silent is handed that pooled connection', async () => {
    expect(grpcService.MessagingServiceClient).toBe(GENERATED_CLIENT);
    const first = clients.create();
    await first.startup();
    await routeOf(first, 'orders');
    fixture.broker.faults.freezeConnections();

    const replacement = clients.create({ requestTimeout: 1000 });
    await replacement.startup();
    expect(await outcomeOf(routeOf(replacement, 'orders')), fixedUpstream('connection-epochs.ts')).toBe(
      DEADLINE_EXCEEDED,
    );
  });

  it('with the workaround, the replacement gets a fresh connection that answers', async () => {
    const first = clients.create();
    await first.startup();
    await routeOf(first, 'orders');
    fixture.broker.faults.freezeConnections();

    useFreshConnections();
    expect(grpcService.MessagingServiceClient).not.toBe(GENERATED_CLIENT);
    const replacement = clients.create();
    await replacement.startup();
    expect(await outcomeOf(routeOf(replacement, 'orders'))).toBe('answered');
  });
});
