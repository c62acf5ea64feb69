import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fcContext } from '../../infra/emulate.js';
import { shutdownSharedProducer } from '../../lib/index.js';
import { useBroker } from '../support/broker-fixture.js';

const fixture = useBroker();
let spoolDir: string;

beforeAll(async () => {
  spoolDir = await mkdtemp(join(tmpdir(), 'fanout-spool-'));
  process.env.ROCKETMQ_ENDPOINTS = fixture.broker.endpoint;
  process.env.ROCKETMQ_SPOOL_DIR = spoolDir;
});
afterAll(async () => {
  await shutdownSharedProducer({ timeoutMs: 1000 });
  await rm(spoolDir, { recursive: true, force: true });
  delete process.env.ROCKETMQ_SPOOL_DIR;
});

describe('object-fanout with a spool', () => {
  it('spools what the broker refuses, then delivers it on the next invocation of the instance', async () => {
    const { handler } = await import('../../functions/object-fanout/fc.js');
    const event = await readFile('events/fc/oss-put.json');
    fixture.broker.faults.failNextSends(100, 50001);
    const first = await handler(event, fcContext('object-fanout', 10));
    expect(first).toMatchObject({ sent: 0, failed: 3, spooled: 3 });
    fixture.broker.faults.reset();
    const before = fixture.broker.messages('object-events').length;
    const second = await handler(event, fcContext('object-fanout', 10));
    expect(second).toMatchObject({ sent: 3, failed: 0, spooled: 0, redelivered: 3 });
    expect(fixture.broker.messages('object-events').length - before).toBe(6);
  });
});
