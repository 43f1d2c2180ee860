import {
  defineWasmModule,
  PARALLEL_MIN_WORK,
  type WasmContext,
  type WasmTensor,
} from '@tessera/tensor-webgpu';
import type { FlashParams } from './flash-forward.js';
import { WASM_BASE64 } from './kernels.generated.js';

/**
 * The attention kernels on the wasm backend (`assembly/index.ts`, SIMD128), built by the
 * repository's `scripts/build-wasm.ts` into `src/kernels.generated.ts`.
 */
export const ATTENTION_KERNELS = defineWasmModule('tessera-attention-flash', () =>
  Uint8Array.from(atob(WASM_BASE64), (c) => c.charCodeAt(0)),
);

/** Keys per tile of scores in the kernels (`TILE` in assembly/index.ts). */
const TILE = 32;

/** Whether the wasm kernels take these tensors: f32 only (f16 runs the CPU reference). */
export function wasmTakes(tensors: readonly (WasmTensor | undefined)[]): boolean {
  return tensors.every((t) => t === undefined || t.dtype === 'f32');
}

/** A tensor's byte address in the wasm memory (0 for an absent optional input). */
function at(t: WasmTensor | undefined): number {
  return t ? t.address + 4 * t.offset : 0;
}

/**
 * Runs an attention kernel over `rows` rows, each attending up to `span` keys (or queries):
 * the tensors' addresses, per-task scratch, then the dimensions every kernel takes.
 */
export function callAttention(
  context: WasmContext,
  entry: 'flashForward' | 'flashDq' | 'flashDkv',
  tensors: readonly (WasmTensor | undefined)[],
  p: FlashParams,
  mask: WasmTensor | undefined,
  [rows, span]: [number, number],
): void {
  const D = p.headDim;
  const scratch = context.scratch(context.tasks * (2 * D + 2 * TILE) * 4);
  context.call(
    ATTENTION_KERNELS,
    entry,
    [
      ...tensors.map(at),
      scratch,
      p.batch,
      p.heads,
      p.kvHeads,
      p.sq,
      p.sk,
      p.kvCapacity,
      D,
      p.scale,
      p.causal ? 1 : 0,
      p.window,
      mask ? mask.shape[1]! : 0,
      p.documents ? 1 : 0,
    ],
    rows * span * D >= PARALLEL_MIN_WORK,
  );
}
