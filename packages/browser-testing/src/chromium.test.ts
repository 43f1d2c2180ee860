import { describe, expect, it } from 'vitest';
import { browserTestsEnabled, launchChromium, NO_WEBGPU_ARGS, WEBGPU_ARGS } from './chromium.js';

/** Whether a page in Chromium launched with `args` gets a WebGPU adapter. */
async function hasAdapter(args: readonly string[]): Promise<boolean> {
  const browser = await launchChromium(args);
  try {
    const page = await browser.newPage();
    // A secure context, which WebGPU requires.
    await page.route('http://localhost/**', (route) =>
      route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>t</title>' }),
    );
    await page.goto('http://localhost/');
    return await page.evaluate(async () =>
      Boolean(navigator.gpu && (await navigator.gpu.requestAdapter())),
    );
  } finally {
    await browser.close();
  }
}

describe.runIf(browserTestsEnabled())('launchChromium', () => {
  it('starts headless Chromium with the given flags: WEBGPU_ARGS give a WebGPU adapter, NO_WEBGPU_ARGS none', async () => {
    expect(await hasAdapter(WEBGPU_ARGS)).toBe(true);
    expect(await hasAdapter(NO_WEBGPU_ARGS)).toBe(false);
  });
});
