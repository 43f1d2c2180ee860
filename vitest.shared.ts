// Shared vitest settings: every test imports packages by their public names
// (`@tessera/<name>`), resolved here to the package's source so that a test never
// runs against a stale dist/.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ViteUserConfig } from 'vitest/config';

const root = dirname(fileURLToPath(import.meta.url));

function sourceAliases(): Record<string, string> {
  const aliases: Record<string, string> = {};
  const packages = join(root, 'packages');
  for (const name of readdirSync(packages)) {
    const entry = join(packages, name, 'src', 'index.ts');
    if (existsSync(entry)) aliases[`@tessera/${name}`] = entry;
  }
  return aliases;
}

export const sharedConfig: ViteUserConfig = {
  resolve: { alias: sourceAliases() },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // WebGPU (Dawn) is a native addon with one device per process; forks isolate it.
    pool: 'forks',
  },
};
