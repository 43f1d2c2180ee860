import { browserTestsEnabled, runInBrowser } from '@tessera/browser-testing';
import { maxRelError } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import browserSmoke from './browser-smoke.js';

describe.runIf(browserTestsEnabled())('optim in headless Chromium', () => {
  it('trains the README example for 20 steps as Node does', async () => {
    const page = await runInBrowser<Record<string, number[]>>(
      new URL('./browser-smoke.ts', import.meta.url).pathname,
    );
    const node = await browserSmoke(page.backend);
    expect(Object.keys(page.value)).toEqual(Object.keys(node));
    for (const [name, values] of Object.entries(node))
      expect(maxRelError(page.value[name]!, values), name).toBeLessThan(1e-4);
  });
});
