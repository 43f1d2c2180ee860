import type { Page } from 'playwright-core';
import { WEBGPU_ARGS } from './chromium.js';
import { bundlePage, withPage } from './page.js';

/** The backend a page module is asked to compute on: WebGPU when the page has an adapter. */
export type PageBackend = 'webgpu' | 'cpu';

/**
 * What a page module default-exports: a function that computes on the given backend and
 * returns a JSON-serialisable value (typed arrays become plain arrays on the way back).
 */
export type PageModule<T> = (backend: PageBackend) => Promise<T>;

/** What {@link runInBrowser} returns. */
export interface BrowserRun<T> {
  /** What the page module returned. */
  value: T;
  /** The backend it ran on. */
  backend: PageBackend;
  /** Size of the (unminified) bundle the page loaded, in bytes. */
  bundleBytes: number;
}

/** Options of {@link runInBrowser}. */
export interface RunInBrowserOptions {
  /** Chromium's command-line flags; default {@link WEBGPU_ARGS}. */
  args?: readonly string[];
  /** How long the page may compute, in milliseconds; default 60 000. */
  timeoutMs?: number;
}

/**
 * Bundles `entry` (a module whose default export is a {@link PageModule}) for the browser with
 * esbuild, opens it in headless Chromium with WebGPU enabled, and returns what it computed.
 *
 * The page asks `navigator.gpu` for an adapter first. With one, the module runs on `'webgpu'`;
 * without one it fails when `CI=true` (CI must prove the WebGPU path), and elsewhere runs on
 * `'cpu'` with a warning.
 *
 * @param entry absolute path of the page module (TypeScript or JavaScript); `@tessera/<name>`
 *   imports resolve to the packages' sources through the repository's tsconfig paths.
 * @throws Error when Chromium is missing, the bundle fails to build, the page throws (the
 *   message carries the page's error), or CI=true and the page has no WebGPU adapter.
 */
export async function runInBrowser<T>(
  entry: string,
  options: RunInBrowserOptions = {},
): Promise<BrowserRun<T>> {
  const { args = WEBGPU_ARGS, timeoutMs = 60_000 } = options;
  const script = await bundlePage({ contents: runner(entry) });
  const result = await withPage({ script, args }, (page) =>
    computeInPage<T>(page, args, timeoutMs),
  );
  return { ...result, bundleBytes: script.length };
}

/** The page script: the entry with a runner that publishes it on `window`. */
function runner(entry: string): string {
  return `
    import run from ${JSON.stringify(entry)};
    window.__tesseraHasAdapter = async () =>
      Boolean(navigator.gpu && (await navigator.gpu.requestAdapter()));
    window.__tesseraRun = run;`;
}

interface PageGlobals {
  __tesseraHasAdapter: () => Promise<boolean>;
  __tesseraRun: PageModule<unknown>;
}

async function computeInPage<T>(
  page: Page,
  args: readonly string[],
  timeoutMs: number,
): Promise<{ value: T; backend: PageBackend }> {
  page.setDefaultTimeout(timeoutMs);
  await page.waitForFunction(() => '__tesseraRun' in window);
  const hasAdapter = await page.evaluate(() =>
    (window as unknown as PageGlobals).__tesseraHasAdapter(),
  );
  const backend: PageBackend = hasAdapter ? 'webgpu' : 'cpu';
  if (!hasAdapter) {
    const why = `headless Chromium (${args.join(' ')}) found no WebGPU adapter`;
    if (process.env.CI === 'true')
      throw new Error(`CI=true: ${why}; the browser test must run on WebGPU`);
    console.warn(`browser tests: ${why}; running on the CPU backend`);
  }
  try {
    const value = await page.evaluate(
      (b) => (window as unknown as PageGlobals).__tesseraRun(b),
      backend,
    );
    return { value: value as T, backend };
  } catch (e) {
    throw new Error(`the page module threw: ${(e as Error).message}`);
  }
}
