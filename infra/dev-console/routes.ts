import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConsoleHub } from './hub.js';

/** The console's routes and the one method each takes (the dev server answers 405 to others). */
export const CONSOLE_ROUTES: Record<string, string> = {
  '/_dev/': 'GET',
  '/_dev/console.js': 'GET',
  '/_dev/console.css': 'GET',
  '/_dev/events': 'GET',
  '/_dev/state': 'GET',
  '/_dev/invoke': 'POST',
};

const STATIC_DIR = join(dirname(fileURLToPath(import.meta.url)), 'static');

const ASSETS = {
  '/_dev/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/_dev/console.js': { file: 'console.js', type: 'text/javascript; charset=utf-8' },
  '/_dev/console.css': { file: 'console.css', type: 'text/css; charset=utf-8' },
} as const;

export type ConsoleAssets = Record<keyof typeof ASSETS, Buffer>;

/**
 * Nothing but this origin's own script and style runs on the page: should a message body ever reach
 * the page as markup, it still could not run.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export async function readAssets(): Promise<ConsoleAssets> {
  const entries = await Promise.all(
    Object.entries(ASSETS).map(async ([path, { file }]) => [path, await readFile(join(STATIC_DIR, file))]),
  );
  return Object.fromEntries(entries) as ConsoleAssets;
}

function isAsset(path: string): path is keyof typeof ASSETS {
  return Object.hasOwn(ASSETS, path);
}

/** The page, its script and style, the event stream, the state as JSON and the sample files. */
export async function serveConsole(
  url: URL,
  request: IncomingMessage,
  response: ServerResponse,
  context: {
    assets: ConsoleAssets;
    hub: ConsoleHub;
    sample: (path: string) => { event: unknown } | undefined;
  },
): Promise<boolean> {
  if (request.method !== 'GET') return false;
  const path = url.pathname === '/_dev' ? '/_dev/' : url.pathname;
  if (isAsset(path)) {
    response.writeHead(200, {
      'content-type': ASSETS[path].type,
      'cache-control': 'no-store',
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
    });
    response.end(context.assets[path]);
    return true;
  }
  if (path === '/_dev/events') {
    context.hub.subscribe(response);
    return true;
  }
  if (path === '/_dev/state') {
    response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    response.end(JSON.stringify(context.hub.snapshot()));
    return true;
  }
  const samplePath = /^\/_dev\/samples\/((?:fc|aws)\/[\w.-]+\.json)$/.exec(path)?.[1];
  const sample = samplePath === undefined ? undefined : context.sample(samplePath);
  if (sample) {
    // Only the samples read at start: the path never reaches the file system.
    response.writeHead(200, {
      'content-type': 'application/json',
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'none'",
    });
    response.end(`${JSON.stringify(sample.event, null, 2)}\n`);
    return true;
  }
  return false;
}
