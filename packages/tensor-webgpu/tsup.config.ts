import { defineConfig } from 'tsup';

// ESM only, with types; the two entries share one chunk, so the stateful core exists once
// (no dual-package hazard).
// CommonJS users on Node >= 20.19 load it with require(esm).
export default defineConfig({
  entry: ['src/index.ts', 'src/testing.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  tsconfig: 'tsconfig.build.json',
});
