import type { TensorLayout } from '../backend.js';
import { checkCode, checkError, checkWgsl } from '../device-checks.js';
import { isFloat } from '../dtype.js';
import { entry1d, type GpuKernel, grid1d } from '../kernel.js';
import { defineOp } from '../op.js';
import { formatShape, normalizeAxis, type Shape, sizeOf } from '../shape.js';
import { cpuIndexer, stridedIndexFn, stridedUniforms } from '../strided.js';
import type { Tensor } from '../tensor.js';
import { CORE_KERNELS } from '../wasm/core-kernels.js';
import { PARALLEL_MIN_WORK, type WasmContext, type WasmTensor } from '../wasm/wasm-kernel.js';
import { ADDRESS_FN, addressCpu, addressUniforms, gatherKernel } from './gather-kernel.js';
import { expand, reshape } from './view.js';

function checkIndex(op: string, x: TensorLayout, index: TensorLayout, dim: number): void {
  if (index.dtype !== 'i32') throw new TypeError(`${op}: index must be i32, got ${index.dtype}`);
  if (
    index.shape.length !== x.shape.length ||
    index.shape.some((d, i) => i !== dim && d > x.shape[i]!)
  ) {
    throw new RangeError(
      `${op}: index ${formatShape(index.shape)} must have the rank of ${formatShape(x.shape)} and no larger dimension except ${dim}`,
    );
  }
}

function checkCpuIndex(op: string, value: number, size: number): void {
  if (!(value >= 0 && value < size)) throw checkError('index', op, value, size);
}

// The index is read through its strides: `indexSelect` passes a broadcast (stride-0) view of a
// 1-D index, which would otherwise be copied out to the full shape. The other operand arrives
// packed.

/**
 * PyTorch `gather`: out[i][j] = x[i][index[i][j]] for dim 1 (and likewise for any dim). `op` is
 * the name an out-of-range index is reported under (`gather`, `indexSelect`, `embedding`).
 */
const gatherOp = defineOp<{ dim: number; op: string }>({
  name: 'gather',
  stridedInputs: [false, true],
  outputs: ([x, index], { dim }) => {
    checkIndex('gather', x!, index!, dim);
    return [{ shape: index!.shape, dtype: x!.dtype }];
  },
  wgsl: ([x, index], _o, { dim, op }, info) =>
    gatherKernel(x!, index!, dim, info, checkCode('index', op)),
  cpu: ([x, index], [y], { dim, op }) => {
    const address = addressCpu(index!.shape, x!.shape, dim);
    const indexAt = cpuIndexer(index!, index!.shape);
    for (let i = 0; i < y!.data.length; i++) {
      const at = index!.data[indexAt(i)]!;
      checkCpuIndex(op, at, x!.shape[dim]!);
      y!.data[i] = x!.data[address(i, at)]!;
    }
  },
  wasm: ([x, index], [y], { dim, op }, context) => {
    const rows = embeddingRows(dim, x!.shape, index!);
    if (rows === undefined || x!.dtype !== 'f32') return false;
    const failed = context.table([NO_ROW]);
    context.call(
      CORE_KERNELS,
      'gather_rows',
      [x!.address, ...rows.index, rows.count, rows.cols, rows.vocab, y!.address, failed],
      rows.count * rows.cols >= PARALLEL_MIN_WORK,
    );
    raiseIndexCheck(context, failed, rows, op);
    return true;
  },
  backward: ([g], { inputs: [x, index], params: { dim, op } }): (Tensor | null)[] => [
    scatterAddOp([index!, g!], { dim, shape: [...x!.shape], op })[0]!,
    null,
  ],
});

/** "No row failed its check": what the wasm kernels' report word starts as. */
const NO_ROW = 0x7fffffff;

/**
 * Whether a gather or scatter along `dim` of a 2-D `shape` is an embedding lookup — each row of
 * `index` one id repeated along the columns (a stride-0 view) — and if so its sizes and where
 * its ids are: the layout `assembly/rows.ts` handles (`gather_rows`, `scatter_add_rows`).
 */
function embeddingRows(dim: number, shape: Shape, index: WasmTensor) {
  if (dim !== 0 || shape.length !== 2 || index.shape.length !== 2) return undefined;
  if (index.shape[1] !== shape[1] || (index.shape[1]! > 1 && index.strides[1] !== 0))
    return undefined;
  const count = index.shape[0]!;
  return {
    index: [index.address + 4 * index.offset, count > 1 ? index.strides[0]! : 0],
    count,
    cols: shape[1]!,
    vocab: shape[0]!,
  };
}

/** Raises the CPU reference's error for the first row whose id a wasm kernel found out of range. */
function raiseIndexCheck(
  context: WasmContext,
  failed: number,
  rows: NonNullable<ReturnType<typeof embeddingRows>>,
  op: string,
): void {
  const row = context.words(failed, 1)[0]!;
  if (row === NO_ROW) return;
  const id = context.words(rows.index[0]! + 4 * row * rows.index[1]!, 1)[0]!;
  throw checkError('index', op, id, rows.vocab);
}

/** Sums `src` into zeros of `shape` at the gathered positions (the adjoint of gather). */
const scatterAddOp = defineOp<{ dim: number; shape: Shape; op: string }>({
  name: 'scatter_add',
  stridedInputs: [true, false],
  outputs: ([index, src], { dim, shape }) => {
    checkIndex('scatterAdd', { shape, strides: [], offset: 0, dtype: src!.dtype }, index!, dim);
    if (!isFloat(src!.dtype) || src!.dtype === 'f16')
      throw new TypeError(`scatterAdd: src must be f32, got ${src!.dtype}`);
    if (index!.shape.join() !== src!.shape.join()) {
      throw new RangeError(
        `scatterAdd: index ${formatShape(index!.shape)} and src ${formatShape(src!.shape)} must have the same shape`,
      );
    }
    return [{ shape, dtype: 'f32' }];
  },
  wgsl: ([index], _o, { dim, shape, op }, info): GpuKernel[] => {
    const n = sizeOf(index!.shape);
    const total = sizeOf(shape);
    const u = addressUniforms(checkCode('index', op), index!.shape, shape, dim, n).u32(
      'total',
      total,
    );
    const rank = index!.shape.length;
    stridedUniforms(u, 'index', index!, rank);
    const bindings = `${u.declaration(3)}@group(0) @binding(0) var<storage, read> index: array<i32>;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<atomic<u32>>;
`;
    // Two passes over the same bindings: zero the output, then add with a compare-and-swap loop
    // (WGSL has no float atomics). The summation order, hence rounding, varies run to run.
    const zero: GpuKernel = {
      key: 'scatter_add:zero',
      uniforms: u,
      workgroups: grid1d(total, info),
      code: () => `${bindings}${entry1d('  atomicStore(&y[i], 0u);', 'P.total')}`,
    };
    const add: GpuKernel = {
      key: `scatter_add:add:r${rank}`,
      uniforms: u,
      workgroups: grid1d(n, info),
      checks: true,
      code: () =>
        `${bindings}${checkWgsl(4)}${ADDRESS_FN}${stridedIndexFn('index', rank)}${entry1d(`  if (i >= P.n) { return; }
  let at = index[at_index(i)];
  if (at < 0 || u32(at) >= P.dimSize) { report(P.check, at, P.dimSize); return; }
  let j = address(i, at);
  let v = src[i];
  var old = atomicLoad(&y[j]);
  loop {
    let r = atomicCompareExchangeWeak(&y[j], old, bitcast<u32>(bitcast<f32>(old) + v));
    if (r.exchanged) { break; }
    old = r.old_value;
  }`)}`,
    };
    return [zero, add];
  },
  wasm: ([index, src], [y], { dim, shape, op }, context) => {
    const rows = embeddingRows(dim, shape, index!);
    if (rows === undefined || src!.dtype !== 'f32') return false;
    const failed = context.table([NO_ROW]);
    context.call(
      CORE_KERNELS,
      'scatter_add_rows',
      [...rows.index, src!.address, rows.count, rows.cols, rows.vocab, y!.address, failed],
      rows.count * rows.cols >= PARALLEL_MIN_WORK,
    );
    raiseIndexCheck(context, failed, rows, op);
    return true;
  },
  cpu: ([index, src], [y], { dim, shape, op }) => {
    const address = addressCpu(index!.shape, shape, dim);
    const indexAt = cpuIndexer(index!, index!.shape);
    y!.data.fill(0);
    const n = sizeOf(src!.shape);
    for (let i = 0; i < n; i++) {
      const at = index!.data[indexAt(i)]!;
      checkCpuIndex(op, at, shape[dim]!);
      y!.data[address(i, at)]! += src!.data[i]!;
    }
  },
  backward: ([g], { inputs: [index], params: { dim, op } }): (Tensor | null)[] => [
    null,
    gatherOp([g!, index!], { dim, op })[0]!,
  ],
});

/**
 * `torch.gather(x, dim, index)`: picks, along `dim`, the elements that `index` (i32, the rank of
 * `x`) names.
 *
 * @throws RangeError - an index outside [0, x.shape[dim]): at once on the CPU backend, at the next
 *   read-back or `sync()` on WebGPU (the kernel records it on the device), with the same message
 */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  return gatherOp([x, index], { dim: normalizeAxis(dim, x.rank, 'gather'), op: 'gather' })[0]!;
}

/**
 * `torch.zeros(shape).scatter_add(dim, index, src)`: sums `src` into the positions `index` names.
 *
 * @throws RangeError - an index outside [0, shape[dim]), as `gather` raises it
 */
export function scatterAdd(shape: Shape, dim: number, index: Tensor, src: Tensor): Tensor {
  return scatterAddOp([index, src], {
    dim: normalizeAxis(dim, shape.length, 'scatterAdd'),
    shape: [...shape],
    op: 'scatterAdd',
  })[0]!;
}

/** `indexSelect` under the name its errors give. */
function selectRows(op: string, x: Tensor, dim: number, index: Tensor): Tensor {
  const d = normalizeAxis(dim, x.rank, op);
  if (index.rank !== 1)
    throw new RangeError(`${op}: index must be 1-D, got ${formatShape(index.shape)}`);
  const shape = [...x.shape];
  shape[d] = index.shape[0]!;
  const viewShape = shape.map((_, i) => (i === d ? index.shape[0]! : 1));
  const full = expand(reshape(index, viewShape), shape);
  return gatherOp([x, full], { dim: d, op })[0]!;
}

/**
 * `torch.index_select(x, dim, index)`: the slices of `x` along `dim` listed in the 1-D i32 `index`.
 * Its gradient is a scatter-add, so repeated indices accumulate (as embedding lookups need).
 *
 * @throws RangeError - an index outside [0, x.shape[dim]), as `gather` raises it
 */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  return selectRows('indexSelect', x, dim, index);
}

/**
 * Embedding lookup: rows of `weight` [vocab, dim] for i32 `ids` of any shape → [...ids.shape, dim].
 *
 * @throws RangeError - an id outside [0, vocab), as `gather` raises it
 */
export function embedding(weight: Tensor, ids: Tensor): Tensor {
  if (weight.rank !== 2)
    throw new RangeError(
      `embedding: weight must be [vocab, dim], got ${formatShape(weight.shape)}`,
    );
  const rows = selectRows('embedding', weight, 0, reshape(ids, [-1]));
  return reshape(rows, [...ids.shape, weight.shape[1]!]);
}
