#!/usr/bin/env node
// Catches broken installs: packs every public package (and the app), installs the tarballs into
// an empty project, runs `npx reference-llm`, and runs each package's example from `import`
// (examples/example.mjs, which is also the README's example) and from `require`
// (examples/example.cjs).
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const run = (cmd, args, cwd) =>
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });

const packages = readdirSync(join(root, 'packages'))
  .map((name) => ({ name, dir: join(root, 'packages', name) }))
  .concat([{ name: 'reference-llm', dir: join(root, 'apps', 'reference-llm') }])
  .filter(({ dir }) => existsSync(join(dir, 'package.json')))
  .map((p) => ({ ...p, manifest: JSON.parse(readFileSync(join(p.dir, 'package.json'), 'utf8')) }))
  .filter((p) => !p.manifest.private);

const work = mkdtempSync(join(tmpdir(), 'tessera-pack-'));
let failures = 0;
try {
  const tarballs = packages.map(({ dir }) => {
    const out = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], dir));
    return join(work, out[0].filename);
  });
  const project = join(work, 'consumer');
  run('mkdir', ['-p', project]);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  // All tarballs in one install, so @tessera dependencies resolve to the packed versions.
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs], project);

  // The app installs as a command: run it the way `npx` would, from the installed bin.
  try {
    const out = run('npx', ['--no-install', 'reference-llm', 'scaling'], project);
    console.log(`✓ @tessera/reference-llm (npx bin): ${out.trim().split('\n')[2]}`);
  } catch (e) {
    console.error(`✗ @tessera/reference-llm: npx reference-llm failed: ${e.message}`);
    failures++;
  }

  for (const { name, dir, manifest } of packages) {
    if (!existsSync(join(dir, 'examples'))) continue; // the app has no library examples
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    const esm = join(dir, 'examples', 'example.mjs');
    const cjs = join(dir, 'examples', 'example.cjs');
    for (const file of [esm, cjs]) {
      if (!existsSync(file)) {
        console.error(`✗ ${manifest.name}: missing ${file}`);
        failures++;
      }
    }
    // Every example except the CommonJS twin is quoted in the README verbatim.
    for (const file of readdirSync(join(dir, 'examples')).filter((f) => !f.endsWith('.cjs'))) {
      if (!readme.includes(readFileSync(join(dir, 'examples', file), 'utf8').trim())) {
        console.error(`✗ ${manifest.name}: README does not quote examples/${file} as it is`);
        failures++;
      }
    }
    for (const [file, kind] of [
      [esm, 'import'],
      [cjs, 'require'],
    ]) {
      if (!existsSync(file)) continue;
      const target = join(project, `${name}-${kind === 'import' ? 'example.mjs' : 'example.cjs'}`);
      copyFileSync(file, target);
      try {
        const output = run('node', [target], project);
        console.log(`✓ ${manifest.name} (${kind}): ${output.trim().split('\n')[0]}`);
      } catch (e) {
        console.error(`✗ ${manifest.name} (${kind}) failed: ${e.message}`);
        failures++;
      }
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
if (failures > 0) {
  console.error(`pack-check: ${failures} failure(s)`);
  process.exit(1);
}
console.log(`pack-check: ${packages.length} package(s) install and run from import and require`);
