import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let child: ChildProcess;
let url: string;
let output = '';

async function waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const match = output.match(pattern);
    if (match) return match;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${pattern}; output so far:\n${output}`);
}

beforeAll(async () => {
  child = spawn(
    process.execPath,
    ['--import', 'tsx', 'infra/start.ts', '--port', '0', '--broker-port', '0', '--timer-interval', '1'],
    {
      env: { ...process.env, ROCKETMQ_ENDPOINTS: '', POWERTOOLS_LOG_LEVEL: 'WARN' },
    },
  );
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  url = (await waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/))[1] as string;
});

afterAll(() => {
  if (child.exitCode === null) child.kill('SIGKILL');
});

const order = { orderId: '2002', customerId: 'c-7', items: [{ sku: 'B2', qty: 1 }], total: 12.5 };

describe('npm start (dev server)', () => {
  it('prints a banner with curl commands for every function', () => {
    expect(output).toContain(`curl -s -X POST ${url}/orders`);
    expect(output).toContain(`${url}/_dev/oss`);
    expect(output).toContain(`${url}/_dev/timer`);
  });

  it('serves order-confirmation over real HTTP and tails the stored message', async () => {
    const response = await fetch(`${url}/orders`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      },
      body: JSON.stringify(order),
    });
    expect(response.status).toBe(200);
    const { messageId, topic } = (await response.json()) as { messageId: string; topic: string };
    expect(topic).toBe('orders');
    await waitFor(/← orders normal tag=OrderCreated keys=ORDERID_2002/);
    const messages = (await (await fetch(`${url}/_dev/messages?topic=orders`)).json()) as Array<
      Record<string, unknown>
    >;
    const stored = messages.find((m) => m.messageId === messageId);
    expect(stored?.properties).toMatchObject({
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    });
  });

  it('answers bad requests the way the deployed function does', async () => {
    const bad = await fetch(`${url}/orders`, { method: 'POST', body: '{"orderId":' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('EVENT_INVALID');
    const wrongMethod = await fetch(`${url}/orders`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toContain('POST');
  });

  it('accepts injected OSS events and fires the timer on schedule', async () => {
    const response = await fetch(`${url}/_dev/oss`, { method: 'POST' });
    expect(await response.json()).toEqual({ sent: 3, failed: 0, spooled: 0 });
    await waitFor(/← object-events normal tag=ObjectCreated:PutObject/);
    await waitFor(/← metrics normal tag=process keys=process\.memory\.rss/);
    const fired = await fetch(`${url}/_dev/timer`, {
      method: 'POST',
      body: '{"gauges":{"orders.pending":12}}',
    });
    expect(((await fired.json()) as { reported: number }).reported).toBeGreaterThan(10);
    await waitFor(/← metrics normal tag=orders keys=orders\.pending/);
  });

  it('says which port is busy instead of crashing', async () => {
    const port = new URL(url).port;
    const second = spawn(
      process.execPath,
      ['--import', 'tsx', 'infra/start.ts', '--port', port, '--broker-port', '0'],
      {
        env: { ...process.env, ROCKETMQ_ENDPOINTS: '' },
      },
    );
    let stderr = '';
    second.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const [code] = await once(second, 'exit');
    expect(code).toBe(2);
    expect(stderr).toContain(`port ${port} is in use`);
  });

  it('stops cleanly on Ctrl-C', async () => {
    child.kill('SIGINT');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    expect(output).toContain('stopped.');
  });
});
