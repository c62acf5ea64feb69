import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The consume side end to end as a user runs it: `npm start`, one POST /orders, and the order-fulfilment
 * function fed by the emulated RocketMQ trigger, down to the shipments messages in the live tail.
 */

let child: ChildProcess;
let url: string;
let output = '';

async function waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const match = output.match(pattern);
    if (match) return match;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${pattern}; output so far:\n${output}`);
}

interface Listed {
  messageId: string;
  tag: string;
  keys: string[];
  properties: Record<string, string>;
  body: string;
}

async function messages(topic: string): Promise<Listed[]> {
  const response = await fetch(`${url}/_dev/messages?topic=${topic}`);
  return (await response.json()) as Listed[];
}

function postOrder(order: object, traceparent?: string) {
  return fetch(`${url}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(traceparent && { traceparent }) },
    body: JSON.stringify(order),
  });
}

beforeAll(async () => {
  child = spawn(
    process.execPath,
    ['--import', 'tsx', 'infra/start.ts', '--port', '0', '--broker-port', '0', '--timer-interval', '0'],
    { env: { ...process.env, ROCKETMQ_ENDPOINTS: '', POWERTOOLS_LOG_LEVEL: 'WARN' } },
  );
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  url = (await waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/))[1] as string;
});

afterAll(async () => {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
});

describe('npm start: orders → order-fulfilment → shipments', () => {
  it('says which function its RocketMQ trigger feeds, with the batch settings of the trigger config', () => {
    expect(output).toMatch(
      /order-fulfilment receives orders as its RocketMQ trigger does: up to 10 messages or 2 s/,
    );
    expect(output).toMatch(/order-fulfilment receives orders-retry as its RocketMQ trigger does/);
  });

  it('one POST shows the order on orders, the fulfilment, and one shipments message per item', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const order = {
      orderId: '3003',
      customerId: 'c-9',
      items: [
        { sku: 'A1', qty: 1 },
        { sku: 'C3', qty: 2 },
      ],
      total: 42,
    };
    const response = await postOrder(order, traceparent);
    expect(response.status).toBe(200);

    await waitFor(/← orders normal tag=OrderCreated keys=ORDERID_3003/);
    await waitFor(
      /⇒ order-fulfilment ← 1 message\(s\) from orders: \{"processed":1,"failed":0,"retried":0,"deadLettered":0\}/,
    );
    await waitFor(/← shipments normal tag=ShipmentRequested keys=ORDERID_3003,SKU_A1/);
    await waitFor(/← shipments normal tag=ShipmentRequested keys=ORDERID_3003,SKU_C3/);

    const shipments = (await messages('shipments')).filter((m) => m.keys.includes('ORDERID_3003'));
    expect(shipments.map((m) => JSON.parse(m.body))).toEqual([
      { orderId: '3003', customerId: 'c-9', sku: 'A1', qty: 1, warehouse: 'hangzhou-1' },
      { orderId: '3003', customerId: 'c-9', sku: 'C3', qty: 2, warehouse: 'hangzhou-1' },
    ]);
    // The trace started by the HTTP request continues through the trigger to the shipments.
    for (const shipment of shipments)
      expect(shipment.properties.traceparent?.slice(3, 35)).toBe(traceparent.slice(3, 35));
  });

  it('orders arriving within the batch window reach the function as one batch', async () => {
    const orders = ['7001', '7002', '7003'].map((orderId) => ({
      orderId,
      customerId: 'c-3',
      items: [{ sku: 'B7', qty: 1 }],
      total: 5,
    }));
    const answers = await Promise.all(orders.map((order) => postOrder(order)));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
    await waitFor(/⇒ order-fulfilment ← 3 message\(s\) from orders: \{"processed":3,/);
  });

  it('an order that cannot be fulfilled goes through the retry topic and ends on the dead-letter topic', async () => {
    const response = await postOrder({
      orderId: '4004',
      customerId: 'c-1',
      items: [{ sku: 'Z9', qty: 1 }],
      total: 1,
    });
    expect(response.status).toBe(200);
    await waitFor(
      /⇒ order-fulfilment ← 1 message\(s\) from orders: \{"processed":0,"failed":0,"retried":1,"deadLettered":0\}/,
    );
    await waitFor(/← orders-dlq normal tag=OrderCreated keys=ORDERID_4004/, 45_000);
    const [dead] = (await messages('orders-dlq')).filter((m) => m.keys.includes('ORDERID_4004'));
    expect(dead?.properties).toMatchObject({
      'consume.attempt': '3',
      'consume.originalTopic': 'orders',
      'consume.errorCode': 'BAD_REQUEST',
    });
    expect(dead?.properties['consume.error']).toMatch(/not enough stock for Z9/);
    expect((await messages('orders-retry')).filter((m) => m.keys.includes('ORDERID_4004'))).toHaveLength(2);
    expect((await messages('shipments')).some((m) => m.keys.includes('ORDERID_4004'))).toBe(false);
  }, 60_000);
});
