import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { lambdaContext, loadFunction } from '../../infra/emulate.js';
import { shutdownSharedProducer } from '../../lib/index.js';

afterAll(async () => {
  await shutdownSharedProducer({ timeoutMs: 100 });
  delete process.env.ROCKETMQ_ENDPOINTS;
});

describe('a Lambda HTTP handler given an FC event', () => {
  it('answers 400 EVENT_INVALID instead of serving it', async () => {
    // No broker is needed: nothing may be sent.
    process.env.ROCKETMQ_ENDPOINTS = '127.0.0.1:1';
    const fn = await loadFunction('order-confirmation', 'aws');
    const fcEvent = JSON.parse(
      await readFile(new URL('../../events/fc/http-order.json', import.meta.url), 'utf8'),
    ) as unknown;
    const response = (await fn.handler(fcEvent, lambdaContext('order-confirmation', 3))) as {
      statusCode: number;
      body: string;
    };
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'EVENT_INVALID', field: 'version' } });
  });
});
