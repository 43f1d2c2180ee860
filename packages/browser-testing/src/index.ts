/**
 * @packageDocumentation
 * Test-only helpers (a private workspace package, never published): run a module of a Tessera
 * package in headless Chromium with WebGPU and get back what it computed, and measure what a
 * package weighs in a browser bundle. Packages that claim browser support use it in their
 * `browser-smoke.test.ts`.
 */
export { type BundleSize, bundleSize } from './bundle-size.js';
export {
  browserTestsEnabled,
  CHROMIUM,
  launchChromium,
  NO_WEBGPU_ARGS,
  WEBGPU_ARGS,
} from './chromium.js';
export { bundlePage, type PageOptions, withPage } from './page.js';
export {
  type BrowserRun,
  type PageBackend,
  type PageModule,
  type RunInBrowserOptions,
  runInBrowser,
} from './run-in-browser.js';
