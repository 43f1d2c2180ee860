/**
 * Runs `browser/page.ts` in headless Chromium (`@tessera/browser-testing`'s `withPage`), served
 * with the cross-origin isolation headers threads need: Tessera's wasm backend against
 * tfjs-wasm with threads, which Node does not run. Returns undefined (with a note) where there
 * is no Chromium.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bundlePage, CHROMIUM, NO_WEBGPU_ARGS, withPage } from '@tessera/browser-testing';

export interface BrowserResult {
  /** GFLOP/s of each. */
  tessera: number;
  tfjs: number;
  /** Threads tfjs-wasm reports it runs (its XNNPACK pool sizes itself from the core count). */
  tfjsThreads: number;
  /** Largest difference between the two products, relative to max(1, |tfjs|). */
  worst: number;
}

/** GFLOP/s of an n³ matmul on both, in `rounds` alternating rounds (best of each). */
export async function browserMatmul(
  n: number,
  threads: number,
  quick: boolean,
  rounds: number,
): Promise<BrowserResult | undefined> {
  if (!existsSync(CHROMIUM)) {
    console.log(`browser comparison skipped: no ${CHROMIUM} (apt-get install chromium)`);
    return undefined;
  }
  const tfjsDist = fileURLToPath(
    new URL('../../../node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url),
  );
  return withPage(
    {
      script: await bundlePage({
        entry: fileURLToPath(new URL('./browser/page.ts', import.meta.url)),
      }),
      isolated: true,
      args: NO_WEBGPU_ARGS,
      // tfjs fetches its wasm files from /tfjs/ (setWasmPaths in the page).
      files: (path) =>
        path.startsWith('/tfjs/') && path.endsWith('.wasm')
          ? {
              body: readFileSync(`${tfjsDist}${path.slice('/tfjs/'.length)}`),
              type: 'application/wasm',
            }
          : undefined,
    },
    async (page) => {
      await page.waitForFunction(() => 'bench' in globalThis);
      const result = await page.evaluate(
        ([size, count, budget, times]) =>
          (
            globalThis as unknown as {
              bench(n: number, t: number, b: number, r: number): Promise<Record<string, unknown>>;
            }
          ).bench(size!, count!, budget!, times!),
        [n, threads, quick ? 0.5 : 1.5, rounds],
      );
      if (!result.isolated) throw new Error('the page is not cross-origin isolated');
      return result as unknown as BrowserResult;
    },
  );
}
