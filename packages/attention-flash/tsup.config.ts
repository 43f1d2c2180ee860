import { defineConfig } from 'tsup';

// ESM only, one file with types: a single copy of the stateful core (no dual-package hazard).
// CommonJS users on Node >= 20.19 load it with require(esm).
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  tsconfig: 'tsconfig.build.json',
});
