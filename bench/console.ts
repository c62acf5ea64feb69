/**
 * The dev console: what the page weighs, and how long a stored message takes to appear on it.
 * Starts the dev server, opens the console in chromium, posts orders one after another (each stores
 * its order and its shipments) and notes, in the page, when each message's row first appears; the
 * delay is that time minus the broker's store time (one machine, one clock).
 *
 *   node --import tsx bench/console.ts [--quick]
 *
 * Prints a summary and writes bench/results/console.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { launchChromium, RECORD_ARRIVALS } from '../infra/dev-console/browser.js';
import { startDevServer } from '../infra/dev-server.js';
import { median, percentile, round } from './stats.js';

const quick = process.argv.includes('--quick');
const ORDERS = quick ? 20 : 100;
/** Between orders, so that each message is measured on its own and not in a burst. */
const GAP_MS = 50;

process.env.POWERTOOLS_LOG_LEVEL = 'WARN';
const server = await startDevServer({ port: 0, brokerPort: 0, timerIntervalSeconds: 0, print: () => {} });
const browser = await launchChromium();
try {
  const assets = await Promise.all(
    ['/_dev/', '/_dev/console.js', '/_dev/console.css'].map(async (path) => {
      const body = Buffer.from(await (await fetch(`${server.url}${path}`)).arrayBuffer());
      return { path, bytes: body.length, gzip: gzipSync(body, { level: 9 }).length };
    }),
  );
  const page = await browser.context.newPage();
  await page.goto(`${server.url}/_dev/`);
  await page.locator('#connection.live').waitFor();
  await page.evaluate(RECORD_ARRIVALS);
  for (let i = 0; i < ORDERS; i++) {
    const order = { orderId: `b${i}`, customerId: 'c-bench', items: [{ sku: 'A1', qty: 1 }], total: 1 };
    const response = await fetch(`${server.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(order),
    });
    if (response.status !== 200) throw new Error(`order ${i}: HTTP ${response.status}`);
    await sleep(GAP_MS);
  }
  // Each order stores two messages: the order and its one shipment.
  const expected = ORDERS * 2;
  await page.waitForFunction(`Object.keys(window.seenAt).length >= ${expected}`, undefined, {
    timeout: 120_000,
  });
  const seenAt = (await page.evaluate('window.seenAt')) as Record<string, number>;
  const stored = ['orders', 'shipments'].flatMap((topic) => server.broker?.messages(topic) ?? []);
  const delays = stored
    .filter((m) => seenAt[m.messageId] !== undefined)
    .map((m) => (seenAt[m.messageId] as number) - m.storeTimestamp);
  const result = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, loadavg: loadavg().map((l) => round(l)) },
    page: {
      assets,
      bytes: assets.reduce((sum, a) => sum + a.bytes, 0),
      gzipBytes: assets.reduce((sum, a) => sum + a.gzip, 0),
    },
    storeToPageMs: {
      messages: delays.length,
      median: round(median(delays)),
      p95: round(percentile(delays, 95)),
      max: round(Math.max(...delays)),
    },
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  if (!quick) {
    const dir = fileURLToPath(new URL('./results/', import.meta.url));
    await mkdir(dir, { recursive: true });
    await writeFile(`${dir}console.json`, `${JSON.stringify(result, null, 2)}\n`);
  }
} finally {
  await browser.close();
  await server.close();
}
