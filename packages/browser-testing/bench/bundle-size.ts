// Prints what each package that runs in browsers weighs in a browser bundle: everything its
// index exports, minified (ES2022 module), then gzipped — with its Tessera dependencies, and on
// its own (those left external). Run: npm run bench -w @tessera/browser-testing
import { bundleSize } from '../src/bundle-size.js';

const PACKAGES = [
  'tensor-webgpu',
  'nn',
  'optim',
  'attention-flash',
  'rope',
  'transformer',
  'sampler',
  'tokenizer',
  'eval',
];

const kB = (bytes: number) => (bytes / 1024).toFixed(1).padStart(8);
console.log('browser bundle sizes in kB (1024 bytes): all that the package exports, plus what it');
console.log('uses of its Tessera dependencies (with deps) or without them (alone)');
console.log(
  `${'package'.padEnd(24)} ${'with deps'.padStart(8)} ${'gzip'.padStart(8)} ${'alone'.padStart(8)} ${'gzip'.padStart(8)}`,
);
for (const name of PACKAGES) {
  const entry = new URL(`../../${name}/src/index.ts`, import.meta.url).pathname;
  const whole = await bundleSize(entry);
  const alone = await bundleSize(entry, ['@tessera/*']);
  console.log(
    `${`@tessera/${name}`.padEnd(24)} ${kB(whole.minified)} ${kB(whole.gzip)} ${kB(alone.minified)} ${kB(alone.gzip)}`,
  );
}
