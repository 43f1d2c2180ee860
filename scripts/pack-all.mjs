#!/usr/bin/env node
// Packs every public package (and the app) into packs/, for installing Tessera from a clone of the
// repository before a release is on the npm registry:
//   npm ci && npm run build && npm run pack:all
//   cd ../your-project && npm install ../tessera/packs/tessera-tokenizer-0.1.0.tgz
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const out = join(root, 'packs');
mkdirSync(out, { recursive: true });
const dirs = [
  ...readdirSync(join(root, 'packages')).map((n) => join(root, 'packages', n)),
  join(root, 'apps', 'reference-llm'),
].filter((d) => existsSync(join(d, 'package.json')));
for (const dir of dirs) {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  if (manifest.private) continue;
  if (!existsSync(join(dir, 'dist')))
    throw new Error(`${manifest.name} is not built: run \`npm run build\` first`);
  const [packed] = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', out], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  console.log(`${manifest.name} → ${relative(process.cwd(), join(out, packed.filename))}`);
}
