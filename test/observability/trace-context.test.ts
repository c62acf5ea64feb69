import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalBroker, startLocalBroker } from '../../infra/local-broker/index.js';
import { createProducer, type Producer } from '../../lib/index.js';
import { currentTraceparent, runWithTraceparent, traceparentFromXRay } from '../../lib/trace-context.js';
import { readBack } from '../support/consumer.js';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('traceparent without OpenTelemetry', () => {
  let broker: LocalBroker;
  let producer: Producer;
  beforeAll(async () => {
    broker = await startLocalBroker({ newGroupStart: 'oldest' });
    producer = createProducer({ endpoints: broker.endpoint });
  });
  afterAll(async () => {
    await producer.shutdown();
    await broker.stop();
  });

  it('is written into the message and reaches a consumer', async () => {
    const result = await runWithTraceparent(TRACEPARENT, () =>
      producer.send({ topic: 'orders', body: 'traced' }),
    );
    const received = await readBack(broker.endpoint, 'orders', (ms) =>
      ms.some((m) => m.messageId === result.messageId),
    );
    expect(received.find((m) => m.messageId === result.messageId)?.properties.get('traceparent')).toBe(
      TRACEPARENT,
    );
  });

  it('does not overwrite a traceparent the caller set, nor touch the caller message', async () => {
    const own = '00-11111111111111111111111111111111-2222222222222222-01';
    const message = { topic: 'orders', body: 'x', properties: { traceparent: own } };
    const result = await runWithTraceparent(TRACEPARENT, () => producer.send(message));
    expect(
      broker.messages('orders').find((m) => m.messageId === result.messageId)?.properties.traceparent,
    ).toBe(own);
    const plain = { topic: 'orders', body: 'y' };
    await runWithTraceparent(TRACEPARENT, () => producer.send(plain));
    expect(plain).toEqual({ topic: 'orders', body: 'y' });
  });

  it('stays with its invocation across awaits and not beyond', async () => {
    await runWithTraceparent(TRACEPARENT, async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(currentTraceparent()).toBe(TRACEPARENT);
    });
    expect(currentTraceparent()).toBeUndefined();
  });
});

describe('traceparentFromXRay', () => {
  it('converts the Lambda X-Ray header to W3C', () => {
    expect(
      traceparentFromXRay('Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1'),
    ).toBe('00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01');
    expect(
      traceparentFromXRay('Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0'),
    ).toMatch(/-00$/);
  });

  it.each([undefined, '', 'Root=1-xyz;Parent=1', 'Root=1-5759e988-bd862e3fe1be46a994272793', 'garbage'])(
    'ignores %j',
    (header) => {
      expect(traceparentFromXRay(header)).toBeUndefined();
    },
  );
});

describe('what the main entry loads', () => {
  it('never pulls in OpenTelemetry or middy; the FC entry never pulls in middy', async () => {
    const inputsOf = async (entry: string) => {
      const result = await build({
        entryPoints: [entry],
        bundle: true,
        platform: 'node',
        format: 'esm',
        write: false,
        metafile: true,
        // The client's optional native CRC32 addon is irrelevant to what gets imported.
        loader: { '.node': 'empty' },
        logLevel: 'silent',
      });
      return Object.keys(result.metafile.inputs);
    };
    const main = await inputsOf('lib/index.ts');
    expect(main.filter((input) => input.includes('@opentelemetry') || input.includes('@middy'))).toEqual([]);
    expect(main.some((input) => input.includes('lib/otel.ts'))).toBe(false);
    const fc = await inputsOf('lib/platforms/fc.ts');
    expect(fc.filter((input) => input.includes('@middy') || input.includes('@opentelemetry'))).toEqual([]);
  });
});
