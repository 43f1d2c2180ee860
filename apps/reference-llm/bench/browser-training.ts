/**
 * The training page's speed: tokens/s of the tiny preset in headless Chromium's WebGPU (the page
 * from source, served as `reference-llm serve` serves it; a SwiftShader adapter on a machine
 * without a GPU) against Node's WebGPU (Dawn; Mesa lavapipe here) on the same run — the page's
 * own `newRun` and `trainStep`: the same tokenizer training, text, model, batch and optimizer —
 * and the page's time to first step (from navigation, Train clicked at load, to the first step's
 * loss on screen) against Node's time from `newRun` to the first loss; and, for scale, the page in
 * a Chromium without WebGPU (its wasm fallback). All measured in this run, one after the other.
 * `npm run bench:browser -w @tessera/reference-llm` (part of `npm run bench`).
 */
import { readFileSync } from 'node:fs';
import {
  browserTestsEnabled,
  launchChromium,
  NO_WEBGPU_ARGS,
  WEBGPU_ARGS,
} from '@tessera/browser-testing';
import * as T from '@tessera/tensor-webgpu';
import { PRESETS } from '../src/presets.js';
import { TRAIN_PAGE_HEADERS } from '../src/serve/train-page.js';
import { trainPageFromSource } from '../src/test-utils/train-page.js';
import { newRun, TEXT_CHARS, trainStep } from '../src/web/train-run.js';

/** Steps before the timed window (the first compiles the pipelines), and in it. */
const WARMUP = 3;
const WINDOW = 10;
const preset = PRESETS['tiny']!;
const tokensPerStep = preset.batchSize * preset.seqLen;

/** Node: ms from `newRun` to the first loss, and tokens/s over the window after the warm-up. */
async function inNode(): Promise<{
  firstStepMs: number;
  tokensPerSecond: number;
  adapter: string;
}> {
  const device = await T.createDevice();
  const text = readFileSync(new URL('../data/tinyshakespeare.txt', import.meta.url), 'utf8');
  const t0 = performance.now();
  const run = newRun(preset, text.slice(0, TEXT_CHARS), WARMUP + WINDOW, device);
  await trainStep(run);
  const firstStepMs = performance.now() - t0;
  while (run.state.step < WARMUP) await trainStep(run);
  const t1 = performance.now();
  while (run.state.step < WARMUP + WINDOW) await trainStep(run);
  const tokensPerSecond = (WINDOW * tokensPerStep) / ((performance.now() - t1) / 1000);
  const adapter = `${device.info.backend}: ${device.info.adapter}`;
  device.destroy();
  return { firstStepMs, tokensPerSecond, adapter };
}

/**
 * The page in Chromium launched with `args`: when each step's loss reached the screen (ms since
 * navigation), and its backend.
 */
async function inChromium(args: readonly string[]): Promise<{
  firstStepMs: number;
  tokensPerSecond: number;
  backend: string;
}> {
  const html = await trainPageFromSource();
  const browser = await launchChromium(args);
  try {
    const page = await browser.newPage();
    await page.route('http://localhost/**', (route) =>
      route.fulfill({ contentType: 'text/html', headers: { ...TRAIN_PAGE_HEADERS }, body: html }),
    );
    await page.goto('http://localhost/train');
    // Each step's first appearance in the status line, and the backend the ready line names.
    await page.evaluate(() => {
      const seen = { shown: [] as number[], backend: '' };
      (window as unknown as { seen: typeof seen }).seen = seen;
      const status = document.getElementById('status')!;
      new MutationObserver(() => {
        const text = status.textContent ?? '';
        const step = Number(/^step (\d+)\//.exec(text)?.[1]);
        if (step && seen.shown[step] === undefined) seen.shown[step] = performance.now();
        seen.backend = /parameters on (\w+)/.exec(text)?.[1] ?? seen.backend;
      }).observe(status, { childList: true, characterData: true, subtree: true });
    });
    await page.fill('#steps', String(WARMUP + WINDOW));
    await page.click('#start');
    await page.waitForFunction(
      (last) =>
        (window as unknown as { seen: { shown: number[] } }).seen.shown[last] !== undefined ||
        /^error/.test(document.getElementById('status')!.textContent ?? ''),
      WARMUP + WINDOW,
      { timeout: 600_000, polling: 200 },
    );
    const { shown, backend } = await page.evaluate(
      () => (window as unknown as { seen: { shown: number[]; backend: string } }).seen,
    );
    if (shown.length <= WARMUP + WINDOW)
      throw new Error(`the page failed: ${await page.locator('#status').textContent()}`);
    const adapter = await page.evaluate(async () => {
      const info = (await navigator.gpu?.requestAdapter())?.info;
      return info
        ? [info.vendor, info.architecture, info.description].filter(Boolean).join(' ')
        : 'none';
    });
    return {
      firstStepMs: shown[1]!,
      tokensPerSecond:
        (WINDOW * tokensPerStep) / ((shown[WARMUP + WINDOW]! - shown[WARMUP]!) / 1000),
      backend: backend === 'webgpu' ? `${backend}: ${adapter}` : backend,
    };
  } finally {
    await browser.close();
  }
}

if (!browserTestsEnabled()) process.exit(0);
const node = await inNode();
const page = await inChromium(WEBGPU_ARGS);
// The page's fallback in a browser without WebGPU, for scale: wasm (served cross-origin isolated).
const fallback = await inChromium(NO_WEBGPU_ARGS);
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
console.log(
  `tiny preset (${preset.model.layers} layers, d=${preset.model.dModel}), batch ${preset.batchSize}×${preset.seqLen}, tokens/s over steps ${WARMUP + 1}–${WARMUP + WINDOW}:`,
);
console.log(`  Node, ${node.adapter}: ${node.tokensPerSecond.toFixed(0)} tokens/s`);
console.log(`  Chromium page, ${page.backend}: ${page.tokensPerSecond.toFixed(0)} tokens/s`);
console.log(`  page / Node: ${(page.tokensPerSecond / node.tokensPerSecond).toFixed(2)}×`);
console.log(
  `  Chromium page without WebGPU, ${fallback.backend}: ${fallback.tokensPerSecond.toFixed(0)} tokens/s (${(fallback.tokensPerSecond / node.tokensPerSecond).toFixed(2)}× Node's WebGPU)`,
);
console.log(
  'time to first step (tokenizer training, model, first step; the page also loads and starts its worker):',
);
console.log(`  Node, from newRun: ${s(node.firstStepMs)}`);
console.log(`  Chromium page, from navigation: ${s(page.firstStepMs)}`);
console.log(`  page / Node: ${(page.firstStepMs / node.firstStepMs).toFixed(2)}×`);
console.log(`  Chromium page without WebGPU (${fallback.backend}): ${s(fallback.firstStepMs)}`);
