/**
 * Takes the README's picture of the console: starts the dev server, runs the example workflow (an
 * order, an OSS event, a sample button), then photographs the page.
 *
 *   node --import tsx infra/dev-console/screenshot.ts [docs/console.png]
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { startDevServer } from '../dev-server.js';
import { launchChromium } from './browser.js';

const out = process.argv[2] ?? 'docs/console.png';
process.env.POWERTOOLS_LOG_LEVEL ??= 'INFO';
const server = await startDevServer({ port: 0, brokerPort: 0, timerIntervalSeconds: 0, print: () => {} });
const browser = await launchChromium({ viewport: { width: 1400, height: 1100 } });
try {
  const page = await browser.context.newPage();
  await page.goto(`${server.url}/_dev/`);
  await page.locator('#connection.live').waitFor();
  const order = {
    orderId: '1001',
    customerId: 'c-42',
    items: [
      { sku: 'A1', qty: 2 },
      { sku: 'B7', qty: 1 },
    ],
    total: 59.8,
  };
  await fetch(`${server.url}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(order),
  });
  await page.locator('#messages li[data-topic="shipments"]').nth(1).waitFor({ timeout: 30_000 });
  await fetch(`${server.url}/_dev/timer`, { method: 'POST', body: '{"gauges":{"orders.pending":12}}' });
  await page.locator('button[data-sample="fc/oss-put.json"]').click();
  const fanout = page.locator('#invocations li[data-function="object-fanout"][data-status="ok"]');
  await fanout.waitFor({ timeout: 60_000 });
  await sleep(2500);
  await page.evaluate(`for (const list of document.querySelectorAll('.list')) {
    for (const row of list.querySelectorAll('details')) row.open = false;
    list.scrollTop = 0;
  }`);
  // One message and one invocation opened, to show what a row holds.
  await page.locator('#messages li[data-topic="orders"] summary').first().click();
  await page.locator('#invocations li[data-function="order-fulfilment"] summary').first().click();
  await page.screenshot({ path: out, fullPage: true });
  process.stdout.write(`${out}\n`);
} finally {
  await browser.close();
  await server.close();
}
