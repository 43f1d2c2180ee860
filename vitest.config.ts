import { defineConfig } from 'vitest/config';

// `npx vitest` from the root runs every workspace's tests as one vitest project each.
export default defineConfig({
  test: { projects: ['packages/*/vitest.config.ts', 'apps/*/vitest.config.ts'] },
});
