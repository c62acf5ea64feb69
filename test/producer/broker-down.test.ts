import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createProducer, ErrorCode } from '../../lib/index.js';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('broker down', () => {
  it('sync send fails with a retryable transport error within the send timeout', async () => {
    const producer = createProducer({ endpoints: `127.0.0.1:${await closedPort()}`, sendTimeoutMs: 1500 });
    const started = Date.now();
    const error = await producer.send({ topic: 'orders', body: 'x' }).catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    expect(error).toMatchObject({ retryable: true });
    expect([ErrorCode.UNAVAILABLE, ErrorCode.TIMEOUT]).toContain((error as { code: string }).code);
    expect(elapsed).toBeLessThan(2000);
    const shutdownStarted = Date.now();
    await producer.shutdown();
    expect(Date.now() - shutdownStarted).toBeLessThan(2000);
  });
});
