import { defineWasmModule } from '@tessera/tensor-webgpu';
import { WASM_BASE64 } from './kernels.generated.js';

/**
 * The optimizers' kernels on the wasm backend (`assembly/index.ts`, SIMD128), built by the
 * repository's `scripts/build-wasm.ts` into `src/kernels.generated.ts`.
 */
export const OPTIM_KERNELS = defineWasmModule('tessera-optim', () =>
  Uint8Array.from(atob(WASM_BASE64), (c) => c.charCodeAt(0)),
);
