/**
 * Runs `browser/page.ts` in headless Chromium (Debian's, driven by playwright-core) from a local
 * server that sends the cross-origin isolation headers (COOP/COEP) threads need: Tessera's wasm
 * backend against tfjs-wasm with threads, which Node does not run. Returns undefined (with a
 * note) where there is no Chromium.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const CHROMIUM = '/usr/bin/chromium';

export interface BrowserResult {
  /** GFLOP/s of each. */
  tessera: number;
  tfjs: number;
  /** Threads tfjs-wasm reports it runs (its XNNPACK pool sizes itself from the core count). */
  tfjsThreads: number;
  /** Largest difference between the two products, relative to max(1, |tfjs|). */
  worst: number;
}

export async function browserMatmul(
  n: number,
  threads: number,
  quick: boolean,
): Promise<BrowserResult | undefined> {
  if (!existsSync(CHROMIUM)) {
    console.log(`browser comparison skipped: no ${CHROMIUM} (apt-get install chromium)`);
    return undefined;
  }
  const { chromium } = await import('playwright-core');
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL('./browser/page.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    write: false,
    logLevel: 'error',
  });
  const tfjsDist = fileURLToPath(
    new URL('../../../node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url),
  );
  const server = createServer((req, res) => {
    // Cross-origin isolation: SharedArrayBuffer (and so wasm threads) is available only with these.
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    if (req.url === '/') {
      res.setHeader('Content-Type', 'text/html');
      res.end('<!doctype html><script type="module" src="/page.js"></script>');
    } else if (req.url === '/page.js') {
      res.setHeader('Content-Type', 'text/javascript');
      res.end(bundle.outputFiles[0]!.text);
    } else if (req.url?.startsWith('/tfjs/') && req.url.endsWith('.wasm')) {
      res.setHeader('Content-Type', 'application/wasm');
      res.end(readFileSync(`${tfjsDist}${req.url.slice('/tfjs/'.length)}`));
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
    page.on('pageerror', (e) => console.log(`page error: ${e.message}`));
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => 'bench' in globalThis);
    const result = await page.evaluate(
      ([size, count, budget]) =>
        (
          globalThis as unknown as {
            bench(n: number, t: number, b: number): Promise<Record<string, unknown>>;
          }
        ).bench(size!, count!, budget!),
      [n, threads, quick ? 0.5 : 2],
    );
    if (!result.isolated) throw new Error('the page is not cross-origin isolated');
    return result as unknown as BrowserResult;
  } finally {
    await browser.close();
    server.close();
  }
}
