import { defineProject } from 'vitest/config';
import { sharedConfig } from '../../vitest.shared.js';

// The browser smoke test (`npm run test:browser`): needs Debian's chromium (apt-get install
// chromium), so it is not part of `npm test`; CI installs Chromium and runs it. The shared
// settings with this include alone (mergeConfig would add the unit tests' include to it).
export default defineProject({
  ...sharedConfig,
  test: {
    ...sharedConfig.test,
    name: 'tensor-webgpu-browser',
    include: ['test/browser/**/*.browser.ts'],
  },
});
