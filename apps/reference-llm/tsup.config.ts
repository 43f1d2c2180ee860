import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base.js';
import { writeAtomic } from './src/atomic-write.js';
import { trainPageHtml } from './src/serve/train-page.js';

/** The training page as one file (dist/web/train.html), which a browser opens from disk. */
function writeTrainPage(): void {
  const read = (name: string) => readFileSync(`dist/web/${name}.js`, 'utf8');
  writeAtomic(
    'dist/web/train.html',
    trainPageHtml({ page: read('train'), worker: read('train-worker') }),
  );
}

// The CLI is the entry (the shebang in src/cli.ts is kept); the web pages' scripts (the chat
// page, the training page and its worker, which bundles the training text) are bundled for
// browsers into dist/web/, which `serve` inlines into the pages. Neither cleans dist (the two
// builds run side by side). The training page is also written whole to dist/web/train.html.
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
    onSuccess: async () => writeTrainPage(),
  },
]);
