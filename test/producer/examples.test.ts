import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBroker } from '../support/broker-fixture.js';

const run = promisify(execFile);
const fixture = useBroker();
let spoolDir: string;
/** An empty home: nothing may be written under it. */
let home: string;

beforeAll(async () => {
  const { mkdtemp } = await import('node:fs/promises');
  spoolDir = await mkdtemp(`${(await import('node:os')).tmpdir()}/examples-spool-`);
  home = await mkdtemp(`${(await import('node:os')).tmpdir()}/examples-home-`);
});
afterAll(async () => {
  const { rm } = await import('node:fs/promises');
  await rm(home, { recursive: true, force: true });
  await rm(spoolDir, { recursive: true, force: true });
});

async function example(name: string) {
  // The child must exit by itself: a timeout here means the producer left a handle open.
  return run(process.execPath, ['--import', 'tsx', `examples/${name}.ts`], {
    env: {
      ...process.env,
      HOME: home,
      ROCKETMQ_ENDPOINTS: fixture.broker.endpoint,
      ROCKETMQ_SPOOL_DIR: spoolDir,
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    },
    timeout: 20_000,
  });
}

describe('README examples run as written and exit on their own', () => {
  it('sync-send', async () => {
    const { stdout } = await example('sync-send');
    expect(stdout.match(/^sent \S+ to orders$/gm)).toHaveLength(3);
    expect(fixture.broker.messages('orders').filter((m) => m.tag === 'OrderCreated')).toHaveLength(3);
  });

  it('async-send', async () => {
    const { stdout } = await example('async-send');
    expect(stdout.match(/^sent \S+ for photos\//gm)).toHaveLength(3);
    expect(stdout).toContain('drained, 0 timed out');
  });

  it('oneway-send', async () => {
    const { stdout } = await example('oneway-send');
    expect(stdout).toContain('oneway sent=100 failed=0 dropped=0');
    // The client's default logger writes ~/logs/rocketmq; home is read-only on FC and Lambda.
    const { readdir } = await import('node:fs/promises');
    expect(await readdir(home)).toEqual([]);
    expect(fixture.broker.messages('metrics').filter((m) => m.tag === 'cpu')).toHaveLength(100);
  });
});
