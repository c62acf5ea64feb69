/**
 * `npm start` stopped with SIGTERM while 300 orders are in flight: it stops accepting, lets the requests
 * it took finish, then exits. The broker lives in this process, so what was stored can be counted after
 * the dev server is gone, and held against what each client was told.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalBroker, startLocalBroker } from '../../infra/local-broker/index.js';

let broker: LocalBroker;
let child: ChildProcess | undefined;
beforeAll(async () => {
  broker = await startLocalBroker();
});
afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await broker.stop();
});

type Outcome = { orderId: string; status: number; body: string } | { orderId: string; error: string };

function post(url: string, agent: Agent, orderId: string): Promise<Outcome> {
  const body = JSON.stringify({ orderId, customerId: 'c-stop', items: [{ sku: 'S1', qty: 1 }], total: 1 });
  return new Promise((resolve) => {
    const req = request(
      `${url}/orders`,
      { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
        });
        response.on('end', () => resolve({ orderId, status: response.statusCode ?? 0, body: text }));
        response.on('error', (error: NodeJS.ErrnoException) =>
          resolve({ orderId, error: error.code ?? error.message }),
        );
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ orderId, error: error.code ?? error.message }),
    );
    req.end(body);
  });
}

describe('npm start under SIGTERM', () => {
  it('300 concurrent orders: every stored order was answered 200, no client saw a reset for a stored order', async () => {
    let output = '';
    child = spawn(
      process.execPath,
      ['--import', 'tsx', 'infra/start.ts', '--port', '0', '--timer-interval', '0'],
      { env: { ...process.env, ROCKETMQ_ENDPOINTS: broker.endpoint, POWERTOOLS_LOG_LEVEL: 'SILENT' } },
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const deadline = Date.now() + 30_000;
    let url: string | undefined;
    while (!url && Date.now() < deadline) {
      url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
      if (!url) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (!url) throw new Error(`the dev server did not start:\n${output}`);
    // Warm the function and its producer, then make each send take a while, so the stop finds them busy.
    expect((await post(url, new Agent(), 'stop-warm')) as { status: number }).toMatchObject({ status: 200 });
    broker.faults.delayMs = 400;

    const agent = new Agent({ keepAlive: true, maxSockets: 300 });
    const outcomes = Promise.all(
      Array.from({ length: 300 }, (_, i) => post(url as string, agent, `stop-${i}`)),
    );
    await new Promise((resolve) => setTimeout(resolve, 150));
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const results = await outcomes;
    const [code] = await exited;
    agent.destroy();
    broker.faults.delayMs = 0;

    expect(code).toBe(0);
    const stored = new Set(broker.messages('orders').flatMap((message) => message.keys));
    const answered = results.filter((r): r is Extract<Outcome, { status: number }> => 'status' in r);
    const failed = results.filter((r): r is Extract<Outcome, { error: string }> => 'error' in r);
    // Told "stored" only when stored, and never told anything else about a stored order.
    for (const outcome of answered) {
      const key = `ORDERID_${outcome.orderId}`;
      if (outcome.status === 200) expect(stored.has(key), outcome.body).toBe(true);
      else expect(stored.has(key), `${outcome.status} ${outcome.body}`).toBe(false);
    }
    expect(failed.filter((outcome) => stored.has(`ORDERID_${outcome.orderId}`))).toEqual([]);
    // The stop found requests in flight and let them finish.
    expect(answered.filter((outcome) => outcome.status === 200).length).toBeGreaterThan(0);
  });
});
