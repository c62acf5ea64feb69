import { access, constants, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';

/**
 * Debian's chromium, driven by playwright-core, for the console's browser test, its bench and the
 * README's screenshot. Headless, with a fresh profile each time and nothing that reaches the network
 * on its own.
 */

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export class BrowserMissingError extends Error {
  readonly code = 'BROWSER_MISSING';
}

export interface Chromium {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(
  options: { viewport?: { width: number; height: number }; executablePath?: string } = {},
): Promise<Chromium> {
  const executablePath = options.executablePath ?? CHROMIUM_PATH;
  try {
    await access(executablePath, constants.X_OK);
  } catch {
    throw new BrowserMissingError(
      `no browser at ${executablePath}: install Debian's chromium (apt-get install -y --no-install-recommends chromium, as .ci/run does) or set CHROMIUM_PATH`,
    );
  }
  const { chromium } = await import('playwright-core');
  const profile = await mkdtemp(join(tmpdir(), 'rocketmq-console-profile-'));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: options.viewport ?? { width: 1400, height: 1000 },
    });
    return {
      context,
      async close() {
        await context.close();
        await rm(profile, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Runs in the page (as text: the project's types have no DOM): notes when each message row first
 * appears, by the page's clock, which is this machine's, as the broker's store time is.
 */
export const RECORD_ARRIVALS = `
  window.seenAt = {};
  new MutationObserver((records) => {
    const now = Date.now();
    for (const record of records)
      for (const node of record.addedNodes) {
        const id = node.dataset && node.dataset.messageId;
        if (id !== undefined && window.seenAt[id] === undefined) window.seenAt[id] = now;
      }
  }).observe(document.getElementById('messages'), { childList: true });
`;
