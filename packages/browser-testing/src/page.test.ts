import { describe, expect, it } from 'vitest';
import { browserTestsEnabled, NO_WEBGPU_ARGS } from './chromium.js';
import { bundlePage, withPage } from './page.js';

describe('bundlePage', () => {
  it('bundles a module file with its imports, or module source', async () => {
    const entry = new URL('./fixtures/imports-adapter-page.ts', import.meta.url).pathname;
    expect(await bundlePage({ entry })).toContain('createComputePipeline');
    expect(await bundlePage({ contents: 'window.answer = 6 * 7;' })).toContain('6 * 7');
  });

  it('fails with esbuild’s errors for a module that cannot be bundled', async () => {
    await expect(bundlePage({ contents: 'import "./no-such-module.js";' })).rejects.toThrow(
      /Could not resolve "\.\/no-such-module\.js"/,
    );
  });
});

describe.runIf(browserTestsEnabled())('withPage', () => {
  const script = `window.ready = true;
    window.fetchText = async (path) => (await fetch(path)).text();`;

  it('serves the script and the files asked for; cross-origin isolated only when asked', async () => {
    for (const isolated of [false, true]) {
      const seen = await withPage(
        {
          script,
          isolated,
          args: NO_WEBGPU_ARGS,
          files: (path) =>
            path === '/data.txt' ? { body: 'some data', type: 'text/plain' } : undefined,
        },
        async (page) => {
          await page.waitForFunction(() => 'ready' in window);
          return page.evaluate(async () => {
            const w = window as unknown as { fetchText(path: string): Promise<string> };
            return {
              isolated: crossOriginIsolated,
              data: await w.fetchText('/data.txt'),
              missing: (await fetch('/other.txt')).status,
            };
          });
        },
      );
      expect(seen).toEqual({ isolated, data: 'some data', missing: 404 });
    }
  });

  it('fails with the error the page throws, without waiting for use', async () => {
    const start = performance.now();
    await expect(
      withPage({ script: 'throw new Error("failed on purpose");', args: NO_WEBGPU_ARGS }, (page) =>
        page.waitForFunction(() => 'never' in window, undefined, { timeout: 60_000 }),
      ),
    ).rejects.toThrow('the page threw: failed on purpose');
    expect(performance.now() - start).toBeLessThan(30_000);
  });
});
