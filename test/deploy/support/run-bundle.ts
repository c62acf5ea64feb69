import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { fc2CallFrom, fcContext, isFcHttpEvent, lambdaContext } from '../../../infra/emulate.js';

/**
 * Child-process harness: loads a built bundle from wherever it was copied and calls it the way its
 * platform does, with contexts from infra/emulate.ts. Usage:
 *   run-bundle.ts fc <index.js> <event.json> [fc2]   |   run-bundle.ts aws <index.mjs> <event.json>
 * Prints the handler's result as JSON on stdout.
 */

const [platform, bundlePath, eventPath, shape] = process.argv.slice(2);
if (!platform || !bundlePath || !eventPath)
  throw new Error('usage: run-bundle.ts <fc|aws> <bundle> <event.json> [fc2]');
const raw = readFileSync(eventPath);
const functionName = 'bundle-under-test';

async function run(): Promise<unknown> {
  if (platform === 'aws') {
    const module = (await import(pathToFileURL(bundlePath as string).href)) as {
      handler: (event: unknown, context: unknown) => Promise<unknown>;
    };
    return module.handler(JSON.parse(raw.toString()), lambdaContext(functionName, 10));
  }
  // FC loads the bundle with require(), from the bundle's own folder.
  const module = createRequire(import.meta.url)(bundlePath as string) as {
    handler: (...args: unknown[]) => Promise<unknown>;
    initializer: (context: unknown) => Promise<void>;
    preStop: (context: unknown) => Promise<void>;
  };
  const context = fcContext(functionName, 10);
  await module.initializer(context);
  try {
    if (shape === 'fc2') {
      const event = JSON.parse(raw.toString());
      if (!isFcHttpEvent(event)) throw new Error('fc2 needs an FC HTTP event');
      const call = fc2CallFrom(event);
      await module.handler(call.request, call.response, context);
      return await call.sent;
    }
    return await module.handler(raw, context);
  } finally {
    await module.preStop(context);
  }
}

const result = await run();
process.stdout.write(JSON.stringify(result));
// A Lambda bundle keeps its producer for the next invocation, as it should; the harness is done.
process.exit(0);
