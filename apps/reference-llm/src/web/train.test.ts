import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { browserTestsEnabled, CHROMIUM, WEBGPU_ARGS } from '@tessera/browser-testing';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { trainPageHtml } from '../serve/train-page.js';

/** Where the screenshot goes: $TEST_ARTIFACTS, else test-artifacts/ in the app. */
const ARTIFACTS =
  process.env.TEST_ARTIFACTS ?? new URL('../../test-artifacts/', import.meta.url).pathname;

/** The same bundle the build makes (tsup.config.ts), from the source under test. */
async function bundle(file: string): Promise<string> {
  const out = await build({
    entryPoints: [new URL(file, import.meta.url).pathname],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    loader: { '.txt': 'text' },
    write: false,
  });
  return out.outputFiles[0]!.text;
}

describe.runIf(browserTestsEnabled())('the training page in headless Chromium', () => {
  const closers: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
  });

  it('opened from disk, trains the tiny GPT in a worker on WebGPU: the loss falls and a sample appears', async () => {
    const html = trainPageHtml({
      page: await bundle('./train.ts'),
      worker: await bundle('./train-worker.ts'),
    });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [...WEBGPU_ARGS],
      headless: true,
    });
    closers.push(() => browser.close());
    // Opened from disk, as the build's dist/web/train.html is (file: is a secure context, which
    // WebGPU requires; the worker starts from a blob URL).
    const folder = mkdtempSync(join(tmpdir(), 'tessera-train-page-'));
    closers.push(async () => rmSync(folder, { recursive: true, force: true }));
    writeFileSync(join(folder, 'train.html'), html);
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`file://${join(folder, 'train.html')}`);
    const steps = 8;
    await page.fill('#steps', String(steps));
    await page.fill('#prompt', 'ROMEO:');
    await page.click('#start');
    const done = async () =>
      (await page.locator('#sample').textContent()) ||
      ((await page.locator('#status').textContent()) ?? '').startsWith('error')
        ? 'done'
        : 'training';
    await expect.poll(done, { timeout: 240_000, interval: 500 }).toBe('done');
    expect(await page.locator('#status').textContent()).toMatch(
      new RegExp(`^step ${steps}/${steps}: loss [\\d.]+, \\d+ tok/s$`),
    );
    expect(await page.locator('#notice').textContent()).toBe(''); // WebGPU, no CPU fallback
    const losses = JSON.parse((await page.locator('#chart').getAttribute('data-losses')) ?? '[]');
    expect(losses).toHaveLength(steps);
    expect(losses.at(-1)).toBeLessThan(losses[0] - 0.1); // nats/token: learning, not noise
    const sample = (await page.locator('#sample').textContent()) ?? '';
    expect(sample.startsWith('ROMEO:')).toBe(true);
    expect(sample.length).toBeGreaterThan('ROMEO:'.length);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'train-page.png'), fullPage: true });
    expect(errors).toEqual([]);
  });
});
