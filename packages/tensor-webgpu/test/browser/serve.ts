/**
 * Serves a bundled page to headless Chromium (Debian's, driven by playwright-core), for the
 * browser smoke test and the browser benchmark. `isolated` sends the cross-origin isolation
 * headers (COOP/COEP) that SharedArrayBuffer — and so wasm threads — need.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';

/** Where Debian's `chromium` package installs the browser. */
export const CHROMIUM = '/usr/bin/chromium';

export function hasChromium(): boolean {
  return existsSync(CHROMIUM);
}

export interface PageOptions {
  /** The TypeScript entry bundled into `/page.js`. */
  entry: string;
  isolated: boolean;
  /** Other paths the page fetches: URL path → bytes and content type. */
  files?: (path: string) => { body: Uint8Array; type: string } | undefined;
}

/**
 * Bundles `entry`, serves it on a local port, opens it in Chromium and calls `use(page)`; closes
 * both afterwards. Errors thrown in the page fail the call.
 */
export async function withPage<R>(
  options: PageOptions,
  use: (page: Page) => Promise<R>,
): Promise<R> {
  const { chromium } = await import('playwright-core');
  const bundle = await build({
    entryPoints: [options.entry],
    bundle: true,
    format: 'esm',
    write: false,
    logLevel: 'error',
  });
  const server = createServer((req, res) => {
    if (options.isolated) {
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    }
    const file = req.url && options.files?.(req.url);
    if (req.url === '/') {
      res.setHeader('Content-Type', 'text/html');
      res.end('<!doctype html><script type="module" src="/page.js"></script>');
    } else if (req.url === '/page.js') {
      res.setHeader('Content-Type', 'text/javascript');
      res.end(bundle.outputFiles[0]!.text);
    } else if (file) {
      res.setHeader('Content-Type', file.type);
      res.end(file.body);
    } else {
      res.statusCode = req.url === '/favicon.ico' ? 204 : 404;
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless=new', '--no-sandbox', '--disable-background-networking', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${port}/`);
    const result = await use(page);
    if (errors.length > 0) throw new Error(`errors in the page: ${errors.join('; ')}`);
    return result;
  } finally {
    await browser.close();
    server.close();
  }
}
