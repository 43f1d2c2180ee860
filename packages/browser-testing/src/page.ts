import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import { launchChromium, WEBGPU_ARGS } from './chromium.js';

/** The page's origin: a secure context, which WebGPU requires; `withPage` answers its requests. */
const ORIGIN = 'http://localhost';

/**
 * Bundles a page script for the browser with esbuild (ES module, ES2022): a module file, or
 * module source whose imports resolve from the working folder. `@tessera/<name>` imports resolve to
 * the packages' sources through the repository's tsconfig paths.
 *
 * @throws Error when esbuild cannot bundle it (its message lists the errors)
 */
export async function bundlePage(
  source: { entry: string } | { contents: string },
): Promise<string> {
  const out = await build({
    ...('entry' in source
      ? { entryPoints: [source.entry] }
      : { stdin: { contents: source.contents, resolveDir: process.cwd(), loader: 'js' } }),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

/** What {@link withPage} serves, and how it starts Chromium. */
export interface PageOptions {
  /** The page's module script (see {@link bundlePage}), served as `/page.js` of an empty page at `/`. */
  script: string;
  /**
   * Send the cross-origin isolation headers (COOP/COEP) that SharedArrayBuffer, and so wasm
   * threads, need; default false.
   */
  isolated?: boolean;
  /** Other paths the page fetches: URL path → body and content type, or undefined for a 404. */
  files?: (path: string) => { body: Uint8Array | string; type: string } | undefined;
  /** Chromium's command-line flags; default {@link WEBGPU_ARGS}. */
  args?: readonly string[];
}

/**
 * Opens `script` in an empty page in headless Chromium ({@link launchChromium}) and calls
 * `use(page)`; closes the browser afterwards. The page is served from `http://localhost` by
 * request interception (no port is opened).
 *
 * @returns what `use` returned
 * @throws Error when Chromium is missing, `use` throws, or the page throws an uncaught error
 *   before `use` returns (`the page threw: <message>`, which ends the wait for `use` at once)
 */
export async function withPage<R>(
  options: PageOptions,
  use: (page: Page) => Promise<R>,
): Promise<R> {
  const { script, isolated = false, files, args = WEBGPU_ARGS } = options;
  const isolation: Record<string, string> = isolated
    ? {
        'Cross-Origin-Opener-Policy': 'same-origin',
        'Cross-Origin-Embedder-Policy': 'require-corp',
      }
    : {};
  const browser = await launchChromium(args);
  try {
    const page = await browser.newPage();
    let thrown: Error | undefined;
    const pageError = new Promise<never>((_, reject) =>
      page.on('pageerror', (e) => {
        thrown ??= new Error(`the page threw: ${e.message}`);
        reject(thrown);
      }),
    );
    pageError.catch(() => {});
    await page.route(`${ORIGIN}/**`, (route) => {
      const path = new URL(route.request().url()).pathname;
      const file = files?.(path);
      if (path === '/')
        return route.fulfill({
          contentType: 'text/html',
          headers: isolation,
          body: '<!doctype html><meta charset="utf-8"><script type="module" src="/page.js"></script>',
        });
      if (path === '/page.js')
        return route.fulfill({ contentType: 'text/javascript', headers: isolation, body: script });
      if (file)
        return route.fulfill({
          contentType: file.type,
          headers: isolation,
          body: Buffer.from(file.body),
        });
      return route.fulfill({ status: path === '/favicon.ico' ? 204 : 404 });
    });
    await page.goto(`${ORIGIN}/`);
    const result = await Promise.race([use(page), pageError]);
    if (thrown) throw thrown; // after use returned, too
    return result;
  } finally {
    await browser.close();
  }
}
