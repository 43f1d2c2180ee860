import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base.js';

// The CLI is the entry (the shebang in src/cli.ts is kept); the chat page's script is bundled
// for browsers into dist/web/chat.js, which `serve` inlines into the page. Neither cleans dist
// (the two builds run side by side).
export default defineConfig([
  { ...packageBuild(['src/cli.ts']), dts: false, clean: false },
  {
    entry: { 'web/chat': 'src/web/chat.ts' },
    format: ['iife'],
    platform: 'browser',
    target: 'es2020',
    minify: true,
    sourcemap: false,
    outExtension: () => ({ js: '.js' }),
    tsconfig: 'tsconfig.build.json',
  },
]);
