import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_BODY_LIMIT_BYTES, type DevServer, startDevServer } from '../../infra/dev-server.js';
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

describe('dev server answers bad requests itself', () => {
  it('405 with Allow for a /_dev route called with the wrong method', async () => {
    const response = await fetch(`${server.url}/_dev/oss`);
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
  });

  it('400 for an OSS event or a timer payload that is not JSON', async () => {
    for (const path of ['/_dev/oss', '/_dev/timer']) {
      const response = await fetch(`${server.url}${path}`, { method: 'POST', body: 'garbage' });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('INVALID_JSON');
    }
  });

  it('400 for a malformed percent-encoded path', async () => {
    const response = await fetch(`${server.url}/orders%E0%A4%A`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('BAD_PATH');
  });

  it('413 for a body past the limit, declared or streamed, without reading it all', async () => {
    // Declared: refused from the headers, before any of the body is sent.
    const declared = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        `${server.url}/orders`,
        { method: 'POST', headers: { 'content-length': String(DEV_BODY_LIMIT_BYTES + 1) } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(declared).toBe(413);
    // Chunked, no length: the answer comes once the limit is passed, while the client still sends.
    let sent = 0;
    const streamed = await new Promise<{ status: number; sentMiB: number }>((resolve, reject) => {
      const req = httpRequest(`${server.url}/orders`, { method: 'POST' }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, sentMiB: sent });
      });
      req.on('error', reject);
      const chunk = Buffer.alloc(1024 * 1024, 0x61);
      const pump = () => {
        while (sent < 64) {
          sent++;
          if (!req.write(chunk)) return req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    expect(streamed.status).toBe(413);
    // Answered once the limit was passed, long before the 64 MiB the client meant to send.
    expect(streamed.sentMiB).toBeLessThan(48);
  });

  it('lists topic and store time in /_dev/messages, and prints one line per request', async () => {
    const response = await fetch(`${server.url}/_dev/messages?topic=orders`);
    const list = (await response.json()) as { topic: string; storeTime: string }[];
    expect(list.length).toBeGreaterThan(0);
    expect(list[0]?.topic).toBe('orders');
    expect(Number.isNaN(Date.parse(list[0]?.storeTime ?? ''))).toBe(false);
    expect(printed.some((line) => /POST \/orders → 200 \d+ ms \(order-confirmation\)/.test(line))).toBe(true);
    expect(printed.some((line) => /GET \/nowhere → 404/.test(line))).toBe(true);
  });
});

describe('npm start options', () => {
  it('a port past 65535 is a usage error (exit 2), not a stack trace', async () => {
    const run = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'infra/start.ts', '--port', '99999'],
        { timeout: 30_000 },
        (error, _stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stderr }),
      );
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--port must be a port from 0 to 65535');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('npm start and signals', () => {
  it('SIGINT to the npm process reaches the dev server, which stops cleanly', async () => {
    const child = spawn(
      'npm',
      ['start', '--', '--port', '0', '--broker-port', '0', '--timer-interval', '0'],
      {
        env: { ...process.env, ROCKETMQ_ENDPOINTS: '', POWERTOOLS_LOG_LEVEL: 'WARN' },
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    try {
      const deadline = Date.now() + 30_000;
      while (!output.includes('listening on') && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(output).toContain('listening on');
      const exited = once(child, 'exit');
      child.kill('SIGINT');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20_000))]);
      expect(child.exitCode !== null || child.signalCode !== null).toBe(true);
      expect(output).toContain('stopped.');
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 60_000);
});
