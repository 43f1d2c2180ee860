import { browserTestsEnabled, runInBrowser } from '@tessera/browser-testing';
import { maxRelError } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import browserSmoke from './browser-smoke.js';

describe.runIf(browserTestsEnabled())('attention-flash in headless Chromium', () => {
  it('computes GQA flash attention forward, backward and a decode step as Node does', async () => {
    const page = await runInBrowser<Record<string, number[]>>(
      new URL('./browser-smoke.ts', import.meta.url).pathname,
    );
    const node = await browserSmoke(page.backend);
    expect(Object.keys(page.value)).toEqual(Object.keys(node));
    for (const [name, values] of Object.entries(node))
      expect(maxRelError(page.value[name]!, values), name).toBeLessThan(2e-5);
  });
});
