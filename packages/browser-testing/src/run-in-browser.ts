import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { launchChromium, WEBGPU_ARGS } from './chromium.js';

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

const ORIGIN = 'http://localhost'; // a secure context, which WebGPU requires; served by page.route

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
  const script = await bundleForPage(entry);
  const browser = await launchChromium(args);
  try {
    return {
      ...(await computeInPage<T>(browser, script, args, timeoutMs)),
      bundleBytes: script.length,
    };
  } finally {
    await browser.close();
  }
}

/** The page script: the entry bundled with a runner that publishes its result on `window`. */
async function bundleForPage(entry: string): Promise<string> {
  const runner = `
    import run from ${JSON.stringify(entry)};
    window.__tesseraHasAdapter = async () =>
      Boolean(navigator.gpu && (await navigator.gpu.requestAdapter()));
    window.__tesseraRun = run;`;
  const out = await build({
    stdin: { contents: runner, resolveDir: process.cwd(), loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

interface PageGlobals {
  __tesseraHasAdapter: () => Promise<boolean>;
  __tesseraRun: PageModule<unknown>;
}

async function computeInPage<T>(
  browser: Browser,
  script: string,
  args: readonly string[],
  timeoutMs: number,
): Promise<{ value: T; backend: PageBackend }> {
  const page = await browser.newPage();
  page.setDefaultTimeout(timeoutMs);
  // An error the page throws outside the evaluated call (the bundle failing to load) ends the wait.
  const pageError = new Promise<never>((_, reject) =>
    page.on('pageerror', (e) => reject(new Error(`the page threw: ${e.message}`))),
  );
  pageError.catch(() => {});
  await page.route(`${ORIGIN}/**`, (route) =>
    route.request().url().endsWith('/page.js')
      ? route.fulfill({ contentType: 'text/javascript', body: script })
      : route.fulfill({
          contentType: 'text/html',
          body: '<!doctype html><meta charset="utf-8"><script type="module" src="/page.js"></script>',
        }),
  );
  await page.goto(`${ORIGIN}/`);
  await Promise.race([page.waitForFunction(() => '__tesseraRun' in window), pageError]);
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
