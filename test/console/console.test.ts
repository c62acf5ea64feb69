/**
 * The dev console in a real browser (Debian's chromium through playwright-core): the page follows a
 * workflow as it runs, without a reload, runs a sample event from its button, renders untrusted
 * message data as text, and says so when the embedded broker is not there. The page must log no
 * console error and throw no page error. Without a browser this fails, saying how to install one.
 */
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Chromium, launchChromium, RECORD_ARRIVALS } from '../../infra/dev-console/browser.js';
import { useBroker } from '../support/broker-fixture.js';
import { type DevServerProcess, startDevServerProcess } from './dev-server-process.js';

/** Waits on outcomes only; generous, since the machine may be busy. */
const OUTCOME_MS = 60_000;
/** A test waits on several outcomes in turn. */
const TEST_MS = 4 * OUTCOME_MS;

let browser: Chromium;
const SECRET = 'console-test-secret-never-shown';

/** What each page logged as an error, or threw. */
const problems = new Map<Page, string[]>();

async function openConsole(url: string): Promise<Page> {
  const page = await browser.context.newPage();
  const seen: string[] = [];
  problems.set(page, seen);
  page.on('console', (message) => {
    if (message.type() === 'error') seen.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => seen.push(`page error: ${error.message}`));
  await page.goto(`${url}/_dev/`);
  await page.locator('#connection.live').waitFor({ timeout: OUTCOME_MS });
  return page;
}

beforeAll(async () => {
  // A missing browser fails here, with the way to install it: the test never passes without one.
  browser = await launchChromium();
}, OUTCOME_MS);

afterAll(async () => {
  await browser?.close();
});

describe('dev console with the embedded broker', () => {
  let server: DevServerProcess;
  let page: Page;
  let shots: string;

  beforeAll(async () => {
    // Credentials in the environment: the producer signs with them, the page must never show them.
    server = await startDevServerProcess({
      ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAIconsoletest',
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: SECRET,
    });
    shots = await mkdtemp(join(tmpdir(), 'rocketmq-console-test-'));
    page = await openConsole(server.url);
    await page.evaluate(RECORD_ARRIVALS);
  }, 2 * OUTCOME_MS);

  afterAll(async () => {
    // Closed first: a page left open would log its reconnects to the stopped server.
    await page?.close();
    await server?.stop();
  });

  it(
    'serves the page with a policy that allows only its own script and style',
    async () => {
      const response = await fetch(`${server.url}/_dev/`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect((await fetch(`${server.url}/_dev/`, { method: 'POST' })).status).toBe(405);
      expect((await fetch(`${server.url}/_dev/samples/fc/..%2F..%2Fpackage.json`)).status).toBe(404);
      const sample = await fetch(`${server.url}/_dev/samples/fc/oss-put.json`);
      expect(((await sample.json()) as { events: unknown[] }).events).toHaveLength(3);
    },
    TEST_MS,
  );

  it(
    'shows the workflow graph of every function in the manifests',
    async () => {
      for (const name of ['order-confirmation', 'order-fulfilment', 'object-fanout', 'metrics-reporter']) {
        await expect.poll(() => page.locator(`#graph [data-node="f:${name}"]`).count()).toBe(1);
      }
      await expect.poll(() => page.locator('#graph [data-node="t:shipments"]').count()).toBe(1);
    },
    TEST_MS,
  );

  it(
    'an order posted with fetch shows up live: its message, the fulfilment and the shipments',
    async () => {
      const orderId = `${Date.now() % 1_000_000}`;
      const order = {
        orderId,
        customerId: 'c-42',
        items: [
          { sku: 'A1', qty: 2 },
          { sku: 'B7', qty: 1 },
        ],
        total: 59.8,
      };
      const response = await fetch(`${server.url}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(order),
      });
      expect(response.status).toBe(200);
      const { messageId } = (await response.json()) as { messageId: string };

      const row = page.locator(`#messages li[data-message-id="${messageId}"]`);
      await row.waitFor({ timeout: OUTCOME_MS });
      await expect.poll(() => row.textContent()).toContain(`ORDERID_${orderId}`);
      expect(await row.getAttribute('data-topic')).toBe('orders');

      const fulfilment = page.locator('#invocations li[data-function="order-fulfilment"][data-status="ok"]', {
        hasText: messageId,
      });
      await fulfilment.waitFor({ state: 'attached', timeout: OUTCOME_MS });
      const shipments = page.locator('#messages li[data-topic="shipments"]', {
        hasText: `ORDERID_${orderId}`,
      });
      await expect.poll(() => shipments.count(), { timeout: OUTCOME_MS }).toBe(2);
      // The shipments are linked to the fulfilment that sent them, the order to whom it triggered.
      await expect
        .poll(() => fulfilment.locator('a', { hasText: /^0/ }).count(), { timeout: OUTCOME_MS })
        .toBe(3);
      await row.locator('summary').click();
      await expect
        .poll(() => row.textContent(), { timeout: OUTCOME_MS })
        .toMatch(/sent byorder-confirmation \(POST \/orders\)consumed byorder-fulfilment/);
      // The graph counts what it saw on each edge.
      await expect
        .poll(() => page.locator('#graph .edge.seen').count(), { timeout: OUTCOME_MS })
        .toBeGreaterThanOrEqual(3);

      const stored = (await (await fetch(`${server.url}/_dev/state`)).json()) as {
        messages: { messageId: string; storeTime: number }[];
      };
      const seenAt = (await page.evaluate('window.seenAt')) as Record<string, number>;
      const delays = stored.messages
        .filter((m) => seenAt[m.messageId] !== undefined)
        .map((m) => (seenAt[m.messageId] as number) - m.storeTime);
      expect(delays.length).toBeGreaterThanOrEqual(3);
      process.stdout.write(`store → page (ms): ${delays.join(', ')}\n`);
    },
    TEST_MS,
  );

  it(
    'a sample button invokes its function and shows the result',
    async () => {
      await page.locator('button[data-sample="fc/oss-put.json"]').click();
      const invocation = page.locator('#invocations li[data-function="object-fanout"][data-status="ok"]');
      await invocation.waitFor({ timeout: OUTCOME_MS });
      await expect.poll(() => invocation.textContent()).toContain('"sent": 3');
      expect(await invocation.textContent()).toContain('events/fc/oss-put.json');
      await expect
        .poll(() => page.locator('#messages li[data-topic="object-events"]').count(), { timeout: OUTCOME_MS })
        .toBe(3);
      // What the child process sent is listed with it.
      await expect
        .poll(() => invocation.locator('a', { hasText: /^0/ }).count(), { timeout: OUTCOME_MS })
        .toBe(3);
    },
    TEST_MS,
  );

  it(
    'renders message data as text, never as markup',
    async () => {
      const key = 'uploads/<img src=x onerror="window.injected=1">.png';
      const sample = JSON.parse(await readFile('events/fc/oss-put.json', 'utf8'));
      const first = sample.events[0];
      const event = { events: [{ ...first, oss: { ...first.oss, object: { ...first.oss.object, key } } }] };
      const response = await fetch(`${server.url}/_dev/oss`, { method: 'POST', body: JSON.stringify(event) });
      expect(response.status).toBe(200);
      const row = page.locator('#messages li[data-topic="object-events"]', { hasText: '<img src=x' });
      await row.waitFor({ timeout: OUTCOME_MS });
      expect(await page.locator('#messages img').count()).toBe(0);
      expect(await page.evaluate('window.injected')).toBeUndefined();
    },
    TEST_MS,
  );

  it(
    'shows the producer stats and the spool',
    async () => {
      await expect
        .poll(() => page.locator('#stats tr[data-mode="sync"] td').nth(1).textContent(), {
          timeout: OUTCOME_MS,
        })
        .toMatch(/^[1-9]/);
      await expect.poll(() => page.locator('#latency polyline.p99').count(), { timeout: OUTCOME_MS }).toBe(1);
      expect(await page.locator('#spool').textContent()).toContain('empty');
    },
    TEST_MS,
  );

  it(
    'takes a screenshot, and the page logged no errors',
    async () => {
      const file = join(shots, 'console.png');
      await page.screenshot({ path: file, fullPage: true });
      expect((await stat(file)).size).toBeGreaterThan(10_000);
      expect(problems.get(page)).toEqual([]);
    },
    TEST_MS,
  );

  it(
    'never shows the credentials',
    async () => {
      expect(await page.content()).not.toContain(SECRET);
      expect(await (await fetch(`${server.url}/_dev/state`)).text()).not.toContain(SECRET);
    },
    TEST_MS,
  );
});

describe('dev console with a broker of your own (ROCKETMQ_ENDPOINTS)', () => {
  const fixture = useBroker();
  let server: DevServerProcess;

  beforeAll(async () => {
    server = await startDevServerProcess({ ROCKETMQ_ENDPOINTS: fixture.broker.endpoint });
  }, 2 * OUTCOME_MS);

  afterAll(async () => {
    await server?.stop();
  });

  it(
    'says which parts need the embedded broker and still lists what each invocation sent',
    async () => {
      const page = await openConsole(server.url);
      const notice = page.locator('#topics-notice');
      await expect.poll(() => notice.isVisible()).toBe(true);
      expect(await notice.textContent()).toContain('ROCKETMQ_ENDPOINTS');
      expect(await page.locator('#workflow-notice').isVisible()).toBe(true);
      const response = await fetch(`${server.url}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          orderId: 'ext-1',
          customerId: 'c-1',
          items: [{ sku: 'A1', qty: 1 }],
          total: 1,
        }),
      });
      const { messageId } = (await response.json()) as { messageId: string };
      const invocation = page.locator('#invocations li[data-function="order-confirmation"]', {
        hasText: messageId,
      });
      await invocation.waitFor({ state: 'attached', timeout: OUTCOME_MS });
      expect(await page.locator('#messages li').count()).toBe(0);
      await page.close();
      expect(problems.get(page)).toEqual([]);
    },
    TEST_MS,
  );
});
