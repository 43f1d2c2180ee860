import { sizeOf } from '../shape.js';
import { alignedStrides } from '../strided.js';
import { CORE_KERNELS } from '../wasm/core-kernels.js';
import { PARALLEL_MIN_WORK, type WasmContext, type WasmTensor } from '../wasm/wasm-kernel.js';

/** The register tile of `assembly/matmul.ts` and its first-choice blocks. */
const MR = 4;
const NR = 8;
const MC = 64;
const NC = 256;
const KC = 256;

const EPILOGUES = { none: 0, row: 1, full: 2 } as const;

/**
 * One stride that walks dimensions `shape` of `strides` in row-major order, if there is one
 * (every dimension's stride is the next one's times its size; size-1 dimensions do not count).
 */
function collapsedStride(shape: readonly number[], strides: readonly number[]): number | undefined {
  const dims = shape.map((size, d) => [size, strides[d]!] as const).filter(([size]) => size > 1);
  for (let d = 0; d + 1 < dims.length; d++) {
    if (dims[d]![1] !== dims[d + 1]![1] * dims[d + 1]![0]) return undefined;
  }
  return dims.at(-1)?.[1] ?? 0;
}

/**
 * Output blocks of `assembly/matmul.ts`: MC×NC at most, halved (in whole register tiles) until
 * there is a block per task, so small products still spread over every thread.
 */
function blocks(m: number, n: number, batches: number, tasks: number): [number, number] {
  let mc = Math.min(MC, Math.ceil(m / MR) * MR);
  let nc = Math.min(NC, Math.ceil(n / NR) * NR);
  const units = () => batches * Math.ceil(m / mc) * Math.ceil(n / nc);
  while (units() < tasks && (mc > MR || nc > NR)) {
    if (nc / NR >= mc / MR) nc = Math.max(NR, Math.ceil(nc / 2 / NR) * NR);
    else mc = Math.max(MR, Math.ceil(mc / 2 / MR) * MR);
  }
  return [mc, nc];
}

/**
 * The matmul op on the wasm backend: `alpha·(a @ b) + beta·e` with broadcast batches and
 * strided operands, by the packed SIMD kernel of `assembly/matmul.ts`. Batch dimensions that
 * walk with one stride in both operands go to one call; the rest loop here. f32 only.
 */
export function matmulWasm(
  a: WasmTensor,
  b: WasmTensor,
  e: WasmTensor | undefined,
  c: WasmTensor,
  batch: readonly number[],
  [m, k, n]: [number, number, number],
  { alpha, beta, epilogue }: { alpha: number; beta: number; epilogue: keyof typeof EPILOGUES },
  context: WasmContext,
): boolean {
  if (a.dtype !== 'f32') return false;
  const rank = batch.length;
  const batchOf = (t: WasmTensor) =>
    alignedStrides({ ...t, shape: t.shape.slice(0, -2), strides: t.strides.slice(0, -2) }, rank);
  const [aBatch, bBatch] = [batchOf(a), batchOf(b)];
  // The longest run of trailing batch dimensions both operands walk with one stride each.
  let inner = rank;
  let strides: [number, number] | undefined;
  for (; inner >= 0; inner--) {
    const shape = batch.slice(rank - inner);
    const sa = collapsedStride(shape, aBatch.slice(rank - inner));
    const sb = collapsedStride(shape, bBatch.slice(rank - inner));
    if (sa !== undefined && sb !== undefined) {
      strides = [sa, sb];
      break;
    }
  }
  const [sa, sb] = strides ?? [0, 0];
  const innerCount = sizeOf(batch.slice(rank - inner));
  const outerShape = batch.slice(0, rank - inner);
  const [mc, nc] = blocks(m, n, innerCount, context.tasks);
  const perTask = (mc * KC + KC * nc + MR * NR) * 4;
  const scratch = context.scratch(perTask * context.tasks);
  const ra = a.shape.length;
  const rb = b.shape.length;
  const parallel = 2 * m * n * k * innerCount >= PARALLEL_MIN_WORK;
  for (let outer = 0; outer < sizeOf(outerShape); outer++) {
    // The element offsets of this outer batch index in a and b.
    let rem = outer;
    let offA = a.offset;
    let offB = b.offset;
    for (let d = outerShape.length - 1; d >= 0; d--) {
      const idx = rem % outerShape[d]!;
      rem = Math.floor(rem / outerShape[d]!);
      offA += idx * aBatch[d]!;
      offB += idx * bBatch[d]!;
    }
    const cAt = outer * innerCount * m * n;
    context.call(
      CORE_KERNELS,
      'matmul',
      [
        a.address + 4 * offA,
        a.strides[ra - 2]!,
        a.strides[ra - 1]!,
        sa,
        b.address + 4 * offB,
        b.strides[rb - 2]!,
        b.strides[rb - 1]!,
        sb,
        c.address + 4 * cAt,
        e ? e.address + 4 * (e.offset + (epilogue === 'full' ? cAt : 0)) : 0,
        EPILOGUES[epilogue],
        alpha,
        beta,
        m,
        n,
        k,
        innerCount,
        mc,
        nc,
        KC,
        scratch,
      ],
      parallel,
    );
  }
  return true;
}
