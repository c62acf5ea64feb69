import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevServer, startDevServer } from '../../infra/dev-server.js';
import { readManifests } from '../../infra/manifest.js';

/** The dev server routes each path to the HTTP function whose function.json declares it. */

let server: DevServer;
const printed: string[] = [];
const saved = process.env.ROCKETMQ_ENDPOINTS;

beforeAll(async () => {
  delete process.env.ROCKETMQ_ENDPOINTS;
  server = await startDevServer({
    port: 0,
    brokerPort: 0,
    timerIntervalSeconds: 0,
    print: (line) => printed.push(line),
  });
});

afterAll(async () => {
  await server?.close({ graceMs: 1000 });
  if (saved === undefined) delete process.env.ROCKETMQ_ENDPOINTS;
  else process.env.ROCKETMQ_ENDPOINTS = saved;
});

describe('dev server routes', () => {
  it('serves every path an HTTP manifest declares, with its function', async () => {
    const http = (await readManifests()).filter((m) => m.trigger === 'http');
    expect(http.length).toBeGreaterThan(0);
    for (const manifest of http) {
      expect(printed.join('\n')).toContain(`${manifest.name} serves`);
      for (const path of manifest.http?.paths ?? []) {
        const response = await fetch(`${server.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            orderId: 'r-1',
            customerId: 'c-1',
            items: [{ sku: 'A', qty: 1 }],
            total: 1,
          }),
        });
        // Answered by the function (its own validation may refuse the sample body, never a 404).
        expect(response.status).not.toBe(404);
      }
    }
    const stored = server.broker?.messages('orders') ?? [];
    expect(stored.some((m) => m.body.toString().includes('"r-1"'))).toBe(true);
  });

  it('answers 404 for a path no function declares and for an unknown /_dev route', async () => {
    for (const path of ['/nowhere', '/_dev/nope']) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status).toBe(404);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('NOT_FOUND');
      expect(body.error.message).toContain('/orders');
    }
  });

  it('answers 404 when ?function= names no function of that kind', async () => {
    const response = await fetch(`${server.url}/_dev/timer?function=order-confirmation`, { method: 'POST' });
    expect(response.status).toBe(404);
  });
});
