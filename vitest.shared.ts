// Shared vitest settings: every test imports packages by their public names
// (`@tessera/<name>`), resolved here to the package's source so that a test never
// runs against a stale dist/.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ViteUserConfig } from 'vitest/config';

const root = dirname(fileURLToPath(import.meta.url));

/** `@tessera/<name>` → packages/<name>/src/index.ts; `@tessera/<name>/<sub>` → src/<sub>.ts. */
const sourceAliases = [
  { find: /^@tessera\/([^/]+)$/, replacement: join(root, 'packages/$1/src/index.ts') },
  { find: /^@tessera\/([^/]+)\/([^/]+)$/, replacement: join(root, 'packages/$1/src/$2.ts') },
];

export const sharedConfig: ViteUserConfig = {
  resolve: { alias: sourceAliases },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // WebGPU (Dawn) is a native addon with one device per process; forks isolate it.
    pool: 'forks',
    // Tests that check what survives garbage collection call global.gc().
    execArgv: ['--expose-gc'],
  },
};
