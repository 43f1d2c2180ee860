import { afterEach, describe, expect, it } from 'vitest';
import { browserTestsEnabled, NO_WEBGPU_ARGS } from './chromium.js';
import { runInBrowser } from './run-in-browser.js';

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname;
const ci = process.env.CI;
afterEach(() => {
  if (ci === undefined) delete process.env.CI;
  else process.env.CI = ci;
});

describe.runIf(browserTestsEnabled())('runInBrowser', () => {
  it('returns what a WGSL shader computed on the page’s WebGPU adapter', async () => {
    const run = await runInBrowser<{ doubled: number[] }>(fixture('adapter-page.ts'));
    expect(run.backend).toBe('webgpu');
    expect(run.value.doubled).toEqual([2, 5, -6, 8]);
    expect(run.bundleBytes).toBeGreaterThan(0);
  });

  it('rejects with the error the page module threw', async () => {
    await expect(runInBrowser(fixture('throwing-page.ts'))).rejects.toThrow(
      /page module failed on purpose/,
    );
  });

  it('fails when CI=true and the page has no WebGPU adapter', async () => {
    process.env.CI = 'true';
    await expect(
      runInBrowser(fixture('backend-page.ts'), { args: NO_WEBGPU_ARGS }),
    ).rejects.toThrow(/CI=true: headless Chromium .* found no WebGPU adapter/);
  });

  it('runs on the CPU backend outside CI when the page has no WebGPU adapter', async () => {
    delete process.env.CI;
    const run = await runInBrowser(fixture('backend-page.ts'), { args: NO_WEBGPU_ARGS });
    expect(run).toMatchObject({ backend: 'cpu', value: 'cpu' });
  });
});
