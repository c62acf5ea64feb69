'use strict';
/**
 * Runs in a fresh process for bench/cold-start.ts (plain CommonJS, so no loader adds to the start-up):
 *   node cold-start-driver.cjs fc  <bundle index.js> <event.json>   (endpoint from ROCKETMQ_ENDPOINTS)
 *   node cold-start-driver.cjs raw <bundle index.js> <endpoint>
 * `fc` loads a function bundle and calls its initializer and handler as Function Compute would;
 * `raw` loads the raw-client bundle and sends one message. Either way it prints one line,
 * `COLD_START_RESULT {json}`, as soon as the message was acked, and exits.
 */
const { readFileSync } = require('node:fs');
const { randomUUID } = require('node:crypto');

// performance.now() counts from the start of this process: this is Node's own start-up.
const scriptStartMs = performance.now();
const [mode, bundle, arg] = process.argv.slice(2);

async function main() {
  const loaded = require(bundle);
  const loadedMs = performance.now();
  let result;
  if (mode === 'raw') {
    result = await loaded.sendOne(arg, 'orders');
  } else {
    const context = {
      requestId: randomUUID(),
      function: { name: 'order-confirmation', handler: 'index.handler', memory: 512, timeout: 60 },
      service: { name: 'rocketmq-serverless' },
      region: 'cn-hangzhou',
      accountId: '1234567890123456',
    };
    if (loaded.initializer) await loaded.initializer(context);
    result = await loaded.handler(readFileSync(arg), context);
  }
  const ackedMs = performance.now();
  const line = JSON.stringify({ scriptStartMs, loadedMs, ackedMs, result });
  process.stdout.write(`COLD_START_RESULT ${line}\n`, () => process.exit(0));
}

main().catch((error) => {
  process.stderr.write(`cold-start driver failed: ${error?.stack ?? error}\n`);
  process.exit(1);
});
