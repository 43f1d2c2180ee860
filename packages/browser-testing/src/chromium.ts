import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`); CI installs it (`.ci/run`). */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Headless Chromium without WebGPU: `navigator.gpu` is there but offers no adapter, as in a
 * browser without WebGPU.
 */
export const NO_WEBGPU_ARGS: readonly string[] = [
  '--headless=new',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

/**
 * Headless Chromium with WebGPU: on a machine without a GPU these flags give a SwiftShader
 * adapter that runs compute shaders (see the design notes).
 */
export const WEBGPU_ARGS: readonly string[] = [...NO_WEBGPU_ARGS, '--enable-unsafe-webgpu'];

/**
 * True when this machine can run browser tests: Chromium is installed, or CI=true (where a
 * missing Chromium must fail the test, not skip it). Outside CI a missing Chromium prints one
 * line and the browser tests are not run.
 */
export function browserTestsEnabled(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI === 'true') return true;
  console.warn(
    `browser tests: ${CHROMIUM} is missing (apt-get install chromium); not run outside CI`,
  );
  return false;
}

/**
 * Launches headless Chromium (Debian's, {@link CHROMIUM}) through playwright-core: the one way
 * Tessera's browser tests and benchmarks start a browser. Close it when done.
 *
 * @param args Chromium's command-line flags; default {@link WEBGPU_ARGS}.
 * @throws Error when Chromium is missing (naming the package to install).
 */
export async function launchChromium(args: readonly string[] = WEBGPU_ARGS): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  return chromium.launch({ executablePath: CHROMIUM, args: [...args], headless: true });
}
