import type { Options } from 'tsup';

/**
 * The build every package shares: ES modules with type declarations, one shared chunk per
 * package, so a stateful module (the GPU device, the buffer pool) exists once in a program —
 * there is no CommonJS copy (no dual-package hazard). CommonJS users on Node >= 20.19 load the
 * ES module with require(esm).
 */
export function packageBuild(entry: string[] = ['src/index.ts']): Options {
  return {
    entry,
    format: ['esm'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'es2022',
    tsconfig: 'tsconfig.build.json',
  };
}
