/** Without a browser the console's test cannot pass: launching one that is not there fails, saying how to install it. */
import { describe, expect, it } from 'vitest';
import { BrowserMissingError, launchChromium } from '../../infra/dev-console/browser.js';

describe('launchChromium', () => {
  it('fails with BROWSER_MISSING and the install command when the browser is not there', async () => {
    const launching = launchChromium({ executablePath: '/nonexistent/chromium' });
    await expect(launching).rejects.toBeInstanceOf(BrowserMissingError);
    await expect(launching).rejects.toMatchObject({ code: 'BROWSER_MISSING' });
    await expect(launching).rejects.toThrow(
      /no browser at \/nonexistent\/chromium: install .*apt-get install/,
    );
  });
});
