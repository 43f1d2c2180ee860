import { build } from 'esbuild';
import { trainPageHtml } from '../serve/train-page.js';

/** A script of the page bundled as the build bundles it (tsup.config.ts), from the source. */
async function bundle(file: string): Promise<string> {
  const out = await build({
    entryPoints: [new URL(file, import.meta.url).pathname],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    loader: { '.txt': 'text' },
    write: false,
  });
  return out.outputFiles[0]!.text;
}

/** The training page's HTML with both scripts bundled from the source under test. */
export async function trainPageFromSource(): Promise<string> {
  return trainPageHtml({
    page: await bundle('../web/train.ts'),
    worker: await bundle('../web/train-worker.ts'),
  });
}
