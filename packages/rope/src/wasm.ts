import {
  defineWasmModule,
  PARALLEL_MIN_WORK,
  sizeOf,
  type WasmContext,
  type WasmTensor,
} from '@tessera/tensor-webgpu';
import { WASM_BASE64 } from './kernels.generated.js';
import { checkPosition, type RopeParams } from './op-params.js';

/**
 * RoPE's kernel on the wasm backend (`assembly/index.ts`), built by the repository's
 * `scripts/build-wasm.ts` into `src/kernels.generated.ts`.
 */
export const ROPE_KERNELS = defineWasmModule('tessera-rope', () =>
  Uint8Array.from(atob(WASM_BASE64), (c) => c.charCodeAt(0)),
);

/**
 * The rope op's wasm hook: f32 only (f16 runs the CPU reference). Positions are checked here,
 * before the kernel runs, with the reference's error.
 */
export function ropeWasm(
  [x, cos, sin, positions]: readonly WasmTensor[],
  y: WasmTensor,
  p: RopeParams,
  context: WasmContext,
): boolean {
  if (x!.dtype !== 'f32') return false;
  const n = sizeOf(x!.shape);
  if (n === 0) return true;
  const dim = x!.shape[x!.shape.length - 1]!;
  const at = (t: WasmTensor) => t.address + 4 * t.offset;
  for (const pos of context.words(at(positions!), sizeOf(positions!.shape)))
    checkPosition(pos, cos!.shape[0]!);
  context.call(
    ROPE_KERNELS,
    'rope',
    [
      at(x!),
      context.table(x!.shape),
      context.table(x!.strides),
      x!.shape.length,
      at(cos!),
      at(sin!),
      at(positions!),
      at(y),
      n / dim,
      p.rotary,
      p.seqLen,
      p.innerRows,
      p.batchRows,
      p.posStride,
      p.inverse ? -1 : 1,
      p.convention === 'half' ? 0 : 1,
    ],
    n >= PARALLEL_MIN_WORK,
  );
  return true;
}
