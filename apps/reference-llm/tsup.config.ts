import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base.js';

// The CLI is the entry (the shebang in src/cli.ts is kept); the web pages' scripts (the chat
// page, the training page and its worker, which bundles the training text) are bundled for
// browsers into dist/web/, which `serve` inlines into the pages. Neither cleans dist (the two
// builds run side by side).
export default defineConfig([
  { ...packageBuild(['src/cli.ts']), dts: false, clean: false },
  {
    entry: {
      'web/chat': 'src/web/chat.ts',
      'web/train': 'src/web/train.ts',
      'web/train-worker': 'src/web/train-worker.ts',
    },
    format: ['iife'],
    platform: 'browser',
    target: 'es2020',
    loader: { '.txt': 'text' },
    minify: true,
    sourcemap: false,
    outExtension: () => ({ js: '.js' }),
    tsconfig: 'tsconfig.build.json',
  },
]);
