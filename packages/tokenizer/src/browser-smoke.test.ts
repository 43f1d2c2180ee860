import { browserTestsEnabled, runInBrowser } from '@tessera/browser-testing';
import { describe, expect, it } from 'vitest';
import browserSmoke from './browser-smoke.js';

describe.runIf(browserTestsEnabled())('tokenizer in headless Chromium', () => {
  it('trains, encodes, decodes and streams as Node does', async () => {
    const page = await runInBrowser(new URL('./browser-smoke.ts', import.meta.url).pathname);
    expect(page.value).toEqual(await browserSmoke());
  });
});
