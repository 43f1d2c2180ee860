import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainBpe } from '@tessera/tokenizer';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { chatFormatOf } from '../serve/chat-format.js';
import { shakespeare } from '../test-utils/fixtures.js';
import { scriptedServed } from '../test-utils/scripted-lm.js';
import { listen } from '../test-utils/serve.js';

/** Debian's Chromium (`apt-get install chromium`); CI installs it, and there its absence fails the test. */
const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];
/** Where the screenshot goes: $TEST_ARTIFACTS, else test-artifacts/ in the app. */
const ARTIFACTS =
  process.env.TEST_ARTIFACTS ?? new URL('../../test-artifacts/', import.meta.url).pathname;

const present = existsSync(CHROMIUM);
if (!present && process.env.CI !== 'true')
  console.warn(
    `chat page test: ${CHROMIUM} is missing (apt-get install chromium); not run outside CI`,
  );

describe.runIf(present || process.env.CI === 'true')('the chat page in headless Chromium', () => {
  const closers: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
  });

  it('shows the model, streams the reply as it arrives, and the rate in tokens per second', async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`).toBe(true);
    // The same bundle the build makes (tsup.config.ts), from the source under test.
    const bundle = await build({
      entryPoints: [new URL('./chat.ts', import.meta.url).pathname],
      bundle: true,
      format: 'iife',
      platform: 'browser',
      target: 'es2020',
      write: false,
    });
    // A model scripted to give this reply to this message (greedy), so the test sees it whole.
    const tokenizer = trainBpe([shakespeare(20_000)], { vocabSize: 300 });
    const message = 'Good morrow, cousin';
    const reply = 'Good morrow to you, fair cousin; how fares the day in Verona?';
    const prompt = chatFormatOf(tokenizer).encode([{ role: 'user', content: message }]);
    const server = await listen([await scriptedServed(tokenizer, prompt, `${reply}\n\n`)], {
      pageScript: bundle.outputFiles[0]!.text,
    });
    closers.push(server.close);
    const profile = mkdtempSync(join(tmpdir(), 'tessera-chromium-'));
    closers.push(async () => rmSync(profile, { recursive: true, force: true }));
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: ARGS,
      headless: true,
    });
    closers.push(() => browser.close());
    const page = browser.pages()[0] ?? (await browser.newPage());
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));

    await page.goto(`${server.url}/`);
    await expect.poll(() => page.locator('#model option').allTextContents()).toEqual(['scripted']);
    // Count every change of the reply's text: a streamed reply changes many times.
    await page.evaluate(() => {
      const w = window as unknown as { updates: number };
      w.updates = 0;
      // Count mutation records, not callbacks: a busy page handles several streamed pieces in one
      // task (one callback), but each piece still changes the text once (one record).
      new MutationObserver((records) => {
        w.updates += records.length;
      }).observe(document.getElementById('transcript')!, {
        subtree: true,
        childList: true,
        characterData: true,
      });
    });
    await page.fill('#temperature', '0'); // greedy: the same reply on every run
    await page.fill('#max-tokens', '100');
    await page.fill('#prompt', message);
    await page.click('#send');
    // Done when the button is back; the status then gives the reply's tokens and rate.
    const finalStatus = async () =>
      (await page.locator('#send').isDisabled())
        ? 'sending'
        : page.locator('#status').textContent();
    const tokens = tokenizer.encode(`${reply}\n\n`).length; // the reply, and the blank line that ends it
    await expect
      .poll(finalStatus, { timeout: 60_000 })
      .toMatch(new RegExp(`^scripted: ${tokens} tokens, [\\d.]+ tok/s$`));
    expect(await page.locator('.message.user').textContent()).toBe(message);
    expect(await page.locator('.message.assistant').textContent()).toBe(reply);
    const updates = await page.evaluate(() => (window as unknown as { updates: number }).updates);
    expect(updates).toBeGreaterThan(tokens / 2); // the reply arrived piece by piece
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'chat-page.png'), fullPage: true });
    expect(errors).toEqual([]);
  });
});
