import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  browserTestsEnabled,
  launchChromium,
  NO_WEBGPU_ARGS,
  WEBGPU_ARGS,
} from '@tessera/browser-testing';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRAIN_PAGE_HEADERS } from '../serve/train-page.js';
import { trainPageFromSource } from '../test-utils/train-page.js';

/** Where the screenshots go: $TEST_ARTIFACTS, else test-artifacts/ in the app. */
const ARTIFACTS =
  process.env.TEST_ARTIFACTS ?? new URL('../../test-artifacts/', import.meta.url).pathname;

/** Step, planned steps and loss of the status line "step 3/200: loss 5.123, 900 tok/s". */
function stepShown(status: string | null): { step: number; steps: number; loss: number } {
  const m = /^step (\d+)\/(\d+): loss ([\d.]+), \d+ tok\/s/.exec(status ?? '');
  return m
    ? { step: Number(m[1]), steps: Number(m[2]), loss: Number(m[3]) }
    : { step: 0, steps: 0, loss: NaN };
}

describe.runIf(browserTestsEnabled())('the training page in headless Chromium', () => {
  let html: string;
  let folder: string;
  const closers: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    html = await trainPageFromSource();
    folder = mkdtempSync(join(tmpdir(), 'tessera-train-page-'));
    closers.push(async () => rmSync(folder, { recursive: true, force: true }));
    writeFileSync(join(folder, 'train.html'), html);
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
  });

  async function launch(args: readonly string[]): Promise<Browser> {
    const browser = await launchChromium(args);
    closers.push(() => browser.close());
    return browser;
  }

  /**
   * The page in a fresh context (its own storage), opened from disk as the build's
   * dist/web/train.html is (file: is a secure context, which WebGPU requires; the worker starts
   * from a blob URL; Chromium gives file: pages IndexedDB but no OPFS), or served over http as
   * `reference-llm serve` serves it (OPFS; cross-origin isolated, so wasm threads work).
   */
  async function open(
    browser: Browser,
    from: 'disk' | 'server',
  ): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    if (from === 'disk') await page.goto(`file://${join(folder, 'train.html')}`);
    else {
      await page.route('http://localhost/**', (route) =>
        route.fulfill({ contentType: 'text/html', headers: { ...TRAIN_PAGE_HEADERS }, body: html }),
      );
      await page.goto('http://localhost/train');
    }
    return { page, errors };
  }

  const text = async (page: Page, id: string) => (await page.locator(`#${id}`).textContent()) ?? '';
  const losses = async (page: Page): Promise<number[]> =>
    JSON.parse((await page.locator('#chart').getAttribute('data-losses')) ?? '[]');
  /** Waits for the sample, or an error in the status line. */
  const finished = (page: Page) =>
    expect
      .poll(
        async () =>
          (await text(page, 'sample')) || (await text(page, 'status')).startsWith('error')
            ? 'done'
            : 'training',
        {
          timeout: 240_000,
          interval: 500,
        },
      )
      .toBe('done');
  /** Waits until the status line shows step `n` or a later one. */
  const reached = (page: Page, n: number) =>
    expect
      .poll(async () => stepShown(await text(page, 'status')).step, {
        timeout: 240_000,
        interval: 250,
      })
      .toBeGreaterThanOrEqual(n);
  /** Clicks Stop, waits for a new checkpoint to be saved; returns its step. */
  async function stopAndSave(page: Page, store: string): Promise<number> {
    const previous = await text(page, 'saved');
    await page.click('#stop');
    await expect
      .poll(
        async () => {
          const shown = await text(page, 'saved');
          return shown === previous ? '' : shown;
        },
        { timeout: 120_000, interval: 250 },
      )
      .toMatch(new RegExp(`^saved in ${store}: step \\d+/`));
    const saved = Number(/step (\d+)\//.exec(await text(page, 'saved'))![1]);
    expect(stepShown(await text(page, 'status')).step).toBe(saved); // the worker stopped there
    return saved;
  }

  it('opened from disk, trains the tiny GPT in a worker on WebGPU: the loss falls and a sample appears', async () => {
    const { page, errors } = await open(await launch(WEBGPU_ARGS), 'disk');
    const steps = 8;
    await page.fill('#steps', String(steps));
    await page.fill('#prompt', 'ROMEO:');
    await page.click('#start');
    await finished(page);
    expect(await text(page, 'status')).toMatch(
      new RegExp(`^step ${steps}/${steps}: loss [\\d.]+, \\d+ tok/s$`),
    );
    expect(await text(page, 'notice')).toBe(''); // WebGPU, no CPU fallback
    const curve = await losses(page);
    expect(curve).toHaveLength(steps);
    expect(curve.at(-1)).toBeLessThan(curve[0]! - 0.1); // nats/token: learning, not noise
    const sample = await text(page, 'sample');
    expect(sample.startsWith('ROMEO:')).toBe(true);
    expect(sample.length).toBeGreaterThan('ROMEO:'.length);
    // The finished run is saved too, with nothing left to resume.
    expect(await text(page, 'saved')).toBe(`saved in IndexedDB: step ${steps}/${steps}`);
    expect(await page.locator('#resume').isDisabled()).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'train-page.png'), fullPage: true });
    expect(errors).toEqual([]);
  });

  it('served, stops with a checkpoint in OPFS; after a reload, Resume continues from the saved step and the loss curve goes on', async () => {
    const { page, errors } = await open(await launch(WEBGPU_ARGS), 'server');
    await page.fill('#steps', '200');
    await page.click('#start');
    await reached(page, 3);
    const saved = await stopAndSave(page, 'OPFS');
    const before = await losses(page);
    expect(before).toHaveLength(saved);
    expect(await page.locator('#start').isEnabled()).toBe(true);

    await page.reload();
    await expect
      .poll(() => text(page, 'saved'), { timeout: 30_000 })
      .toBe(`saved in OPFS: step ${saved}/200`);
    expect(await page.locator('#resume').isEnabled()).toBe(true);
    await page.click('#resume');
    await reached(page, saved + 2);
    const { step, steps, loss } = stepShown(await text(page, 'status'));
    expect(steps).toBe(200); // the run's own length, and so its learning-rate schedule
    expect(Number.isFinite(loss)).toBe(true);
    const after = await losses(page);
    // The counter went on from the saved step: the curve holds the saved history, then one loss
    // per step since (train-checkpoint.test.ts checks that the resumed steps are the run's own).
    expect(after.slice(0, saved)).toEqual(before);
    expect(after.length).toBeGreaterThanOrEqual(step);
    expect(after.every(Number.isFinite)).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'train-page-resumed.png'), fullPage: true });
    expect(await stopAndSave(page, 'OPFS')).toBeGreaterThan(saved);
    expect(errors).toEqual([]);
  });

  it('without WebGPU, opened from disk (not cross-origin isolated: no wasm threads), trains on the CPU reference with a notice; stops and resumes from IndexedDB', async () => {
    // Chromium without WebGPU (NO_WEBGPU_ARGS): navigator.gpu offers no adapter (in the page and
    // in its worker), as in a browser without WebGPU.
    const { page, errors } = await open(await launch(NO_WEBGPU_ARGS), 'disk');
    await page.fill('#steps', '3');
    await page.fill('#prompt', 'ROMEO:');
    await page.click('#start');
    await reached(page, 1);
    expect(await text(page, 'notice')).toBe(
      'This browser has no WebGPU (navigator.gpu): training on the CPU instead, on the cpu backend.',
    );
    expect(await text(page, 'status')).toMatch(/^step 1\/3: loss [\d.]+/); // finite
    const saved = await stopAndSave(page, 'IndexedDB');
    await page.screenshot({ path: join(ARTIFACTS, 'train-page-fallback.png'), fullPage: true });

    await page.reload();
    await expect
      .poll(() => text(page, 'saved'), { timeout: 30_000 })
      .toBe(`saved in IndexedDB: step ${saved}/3`);
    await page.click('#resume');
    await finished(page);
    expect(await text(page, 'status')).toMatch(/^step 3\/3: loss [\d.]+, \d+ tok\/s$/);
    expect((await losses(page)).every(Number.isFinite)).toBe(true);
    expect(await text(page, 'notice')).toMatch(/on the cpu backend\.$/);
    expect((await text(page, 'sample')).startsWith('ROMEO:')).toBe(true);
    expect(errors).toEqual([]);
  });

  it('without WebGPU, served (cross-origin isolated), trains on the wasm backend with a notice and samples with the settings given', async () => {
    const { page, errors } = await open(await launch(NO_WEBGPU_ARGS), 'server');
    await page.fill('#steps', '3');
    await page.fill('#prompt', 'ROMEO:');
    await page.fill('#top-p', '0');
    await page.click('#start');
    expect(await text(page, 'status')).toMatch(/^error: Top-p: /); // refused before any training
    await page.fill('#top-p', '1');
    await page.fill('#temperature', '0'); // greedy
    await page.fill('#max-tokens', '4');
    await page.click('#start');
    await finished(page);
    expect(await text(page, 'notice')).toBe(
      'This browser has no WebGPU (navigator.gpu): training on the CPU instead, on the wasm backend.',
    );
    expect(await text(page, 'status')).toMatch(/^step 3\/3: loss [\d.]+, \d+ tok\/s$/);
    expect(await text(page, 'range')).toMatch(
      /^loss \(nats\/token\) from [\d.]+ at the top to [\d.]+ at the bottom; steps 1 to 3 left to right$/,
    );
    const greedy = await text(page, 'sample');
    expect(greedy.startsWith('ROMEO:')).toBe(true);
    // Greedy ignores the seed: a new run (the same seeded training) gives the same sample.
    const again = async (settings: Record<string, string>) => {
      for (const [id, value] of Object.entries(settings)) await page.fill(`#${id}`, value);
      await page.click('#start');
      await expect.poll(() => text(page, 'sample'), { timeout: 60_000 }).toBe('');
      await finished(page);
      return text(page, 'sample');
    };
    expect(await again({ seed: '7' })).toBe(greedy);
    // 60 tokens at temperature 2 are not the 4 greedy ones.
    expect(await again({ temperature: '2', 'max-tokens': '60' })).not.toBe(greedy);
    expect(errors).toEqual([]);
  });

  it('Stop during the last step ends the run as a finished one: saved, sampled, Train enabled again', async () => {
    // The CPU reference (from disk, without WebGPU) takes seconds a step: the click lands in step 2.
    const { page, errors } = await open(await launch(NO_WEBGPU_ARGS), 'disk');
    await page.fill('#steps', '2');
    await page.click('#start');
    await reached(page, 1);
    await page.click('#stop');
    await finished(page);
    expect(await text(page, 'status')).toMatch(/^step 2\/2: loss [\d.]+/);
    expect(await text(page, 'saved')).toBe('saved in IndexedDB: step 2/2');
    expect((await text(page, 'sample')).startsWith('ROMEO:')).toBe(true);
    expect(await page.locator('#start').isEnabled()).toBe(true);
    expect(await page.locator('#resume').isDisabled()).toBe(true);
    expect(errors).toEqual([]);
  });
});
