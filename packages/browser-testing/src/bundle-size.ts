import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

/** What a browser user downloads for one module: minified, then minified and gzipped. */
export interface BundleSize {
  /** Minified bytes. */
  minified: number;
  /** Gzipped (level 9) minified bytes. */
  gzip: number;
}

/**
 * Bundles everything `entry` exports for the browser (ES module, minified, ES2022) and measures
 * it. `@tessera/<name>` imports resolve to the packages' sources through the repository's
 * tsconfig paths; names in `external` are left out (to measure a package without its
 * dependencies).
 *
 * @param entry absolute path of the module to measure, e.g. a package's `src/index.ts`.
 * @param external import specifiers to leave out of the bundle; default none.
 * @throws Error when esbuild cannot bundle the module for the browser.
 */
export async function bundleSize(entry: string, external: string[] = []): Promise<BundleSize> {
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    external,
    write: false,
    logLevel: 'silent',
  });
  const code = out.outputFiles[0]!.contents;
  return { minified: code.length, gzip: gzipSync(code, { level: 9 }).length };
}
