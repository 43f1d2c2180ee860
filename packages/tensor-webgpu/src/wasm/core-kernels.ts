import { WASM_BASE64 } from './core-kernels.generated.js';
import { defineWasmModule } from './wasm-kernel.js';

/** The tensor core's wasm kernels, built from `assembly/` by the repository's `scripts/build-wasm.ts`. */
export const CORE_KERNELS = defineWasmModule('tessera-core', () =>
  Uint8Array.from(atob(WASM_BASE64), (c) => c.charCodeAt(0)),
);
