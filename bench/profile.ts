/**
 * Runs one benchmark scenario alone, for `node --cpu-prof`: the broker runs in its own process, so the
 * profile holds only the sending side. Summarize the result with bench/cpuprofile-summary.ts.
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/profile.ts --scenario sync-ours-c64
 *   node --import tsx bench/cpuprofile-summary.ts /tmp/prof/<file>.cpuprofile
 *
 * Scenarios: sync-raw, sync-ours (sequential), sync-raw-c64, sync-ours-c64, async, oneway,
 * wrapper-<function>-<fc|aws> (fake transport, e.g. wrapper-metrics-reporter-fc).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Producer as RawProducer } from 'rocketmq-client-nodejs';
import { fcContext, lambdaContext } from '../infra/emulate.js';
import { createProducer, getProducer, shutdownSharedProducer } from '../lib/index.js';
import { startBrokerProcess } from './broker-process.js';
import { BODY, ONEWAY_TOPIC, OutputGate, SYNC_TOPIC, silentClientLogger } from './context.js';
import { fakeTransport } from './wrappers.js';

const { values } = parseArgs({
  options: { scenario: { type: 'string' }, n: { type: 'string', default: '20000' } },
});
const scenario = values.scenario ?? '';
const n = Number(values.n);

async function loop(count: number, workers: number, send: () => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next++ < count) await send();
    }),
  );
}

const WRAPPER_EVENTS: Record<string, { fc: string; aws: string }> = {
  'order-confirmation': { fc: 'fc/http-order.json', aws: 'aws/apigw-v2-order.json' },
  'object-fanout': { fc: 'fc/oss-put.json', aws: 'aws/s3-put.json' },
  'metrics-reporter': { fc: 'fc/timer.json', aws: 'aws/schedule.json' },
};

async function wrapper(name: string, platform: 'fc' | 'aws'): Promise<void> {
  const transport = fakeTransport();
  getProducer({ endpoints: 'fake:1', transportFactory: () => transport });
  const { handler } = (await import(`../functions/${name}/${platform}.js`)) as {
    handler: (...args: unknown[]) => Promise<unknown>;
  };
  const file = WRAPPER_EVENTS[name]?.[platform];
  if (!file) throw new Error(`no sample event for ${name}`);
  const raw = readFileSync(new URL(`../events/${file}`, import.meta.url));
  const parsed = JSON.parse(raw.toString('utf8')) as unknown;
  for (let i = 0; i < n; i++) {
    if (platform === 'fc') await handler(raw, fcContext(name));
    else await handler(structuredClone(parsed), lambdaContext(name));
  }
  await shutdownSharedProducer();
}

async function main(): Promise<void> {
  const wrapperMatch = /^wrapper-(.+)-(fc|aws)$/.exec(scenario);
  const gate = new OutputGate();
  gate.mute();
  if (wrapperMatch?.[1] && wrapperMatch[2]) {
    await wrapper(wrapperMatch[1], wrapperMatch[2] as 'fc' | 'aws');
    gate.unmute();
    return;
  }
  const broker = await startBrokerProcess();
  try {
    const endpoint = broker.endpoint;
    if (scenario.startsWith('sync-raw')) {
      const raw = new RawProducer({ endpoints: endpoint, namespace: '', logger: silentClientLogger });
      await raw.startup();
      await loop(n, scenario.endsWith('c64') ? 64 : 1, () => raw.send({ topic: SYNC_TOPIC, body: BODY }));
      await raw.shutdown();
    } else if (scenario.startsWith('sync-ours')) {
      const ours = createProducer({ endpoints: endpoint });
      await loop(n, scenario.endsWith('c64') ? 64 : 1, () => ours.send({ topic: SYNC_TOPIC, body: BODY }));
      await ours.shutdown();
    } else if (scenario === 'async') {
      const ours = createProducer({ endpoints: endpoint });
      for (let done = 0; done < n; done += 2000) {
        await Promise.all(
          Array.from({ length: 2000 }, () => ours.sendAsync({ topic: SYNC_TOPIC, body: BODY })),
        );
      }
      await ours.shutdown();
    } else if (scenario === 'oneway') {
      const ours = createProducer({ endpoints: endpoint });
      for (let done = 0; done < n; done += 10_000) {
        for (let i = 0; i < 10_000; i++) ours.sendOneway({ topic: ONEWAY_TOPIC, body: BODY });
        await ours.drain({ timeoutMs: 60_000 });
      }
      await ours.shutdown();
    } else {
      throw new Error(`unknown --scenario ${scenario}`);
    }
  } finally {
    gate.unmute();
    await broker.stop();
  }
}

await main();
