import type { TensorLayout } from '../backend.js';
import type { DeviceInfo } from '../device.js';
import { isFloat, wgslType } from '../dtype.js';
import { defineOp, releaseTemporaries } from '../op.js';
import { isGradEnabled } from '../scope.js';
import { broadcastShapes, formatShape, sizeOf } from '../shape.js';
import { alignedStrides, MAX_RANK } from '../strided.js';
import type { Tensor } from '../tensor.js';
import { Uniforms } from '../uniforms.js';
import {
  type Epilogue,
  type MatmulKernel,
  matmulTile,
  matmulWgsl,
  registerTile,
} from './matmul-wgsl.js';

export type { MatmulKernel };

import { checkOptions } from '../errors.js';
import { mul } from './binary.js';
import { matmulWasm } from './matmul-wasm.js';
import { sum, sumToShape } from './reduce.js';
import { contiguous, expand, reshape, transpose } from './view.js';

interface Dims {
  batch: number[];
  m: number;
  k: number;
  n: number;
}

function dims(a: TensorLayout, b: TensorLayout): Dims {
  if (a.shape.length < 2 || b.shape.length < 2)
    throw new RangeError('matmul: kernel inputs must be at least 2-D');
  const [m, k] = a.shape.slice(-2) as [number, number];
  const [k2, n] = b.shape.slice(-2) as [number, number];
  if (k !== k2) {
    throw new RangeError(
      `matmul: inner dimensions differ (${formatShape(a.shape)} @ ${formatShape(b.shape)}: ${k} vs ${k2})`,
    );
  }
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), 'matmul');
  return { batch, m, k, n };
}

/** Uniforms that locate an operand: offset, batch strides (broadcast-aware) and the two matrix strides. */
function operandUniforms(u: Uniforms, name: string, t: TensorLayout, batchRank: number): void {
  const r = t.shape.length;
  const batchLayout = { ...t, shape: t.shape.slice(0, -2), strides: t.strides.slice(0, -2) };
  u.u32(`${name}_off`, t.offset)
    .u32(`${name}_s0`, t.shape[r - 2] === 1 ? 0 : t.strides[r - 2]!)
    .u32(`${name}_s1`, t.shape[r - 1] === 1 ? 0 : t.strides[r - 1]!)
    .u32s(`${name}_bstr`, alignedStrides(batchLayout, batchRank), MAX_RANK);
}

/** Batched, broadcasting matmul over strided operands (transposes are free). Tiled 64×64, 4×4 per thread. */
interface MatmulParams {
  kernel: MatmulKernel | 'auto';
  alpha: number;
  beta: number;
  epilogue: Epilogue;
}

const matmulOp = defineOp<MatmulParams>({
  name: 'matmul',
  stridedInputs: true,
  outputs: ([a, b]) => {
    if (a!.dtype !== b!.dtype)
      throw new TypeError(`matmul: dtypes differ (${a!.dtype} and ${b!.dtype})`);
    if (!isFloat(a!.dtype))
      throw new TypeError(`matmul: expected floating-point tensors, got ${a!.dtype}`);
    const { batch, m, n } = dims(a!, b!);
    return [{ shape: [...batch, m, n], dtype: a!.dtype }];
  },
  wgsl: ([a, b, e], _o, { kernel, alpha, beta, epilogue }, info) => {
    const { batch, m, k, n } = dims(a!, b!);
    if (batch.length > MAX_RANK)
      throw new RangeError(`matmul: batch rank ${batch.length} exceeds ${MAX_RANK}`);
    const u = new Uniforms()
      .u32('m', m)
      .u32('n', n)
      .u32('k', k)
      .u32('brank', batch.length)
      .u32s('bshape', batch, MAX_RANK);
    operandUniforms(u, 'a', a!, batch.length);
    operandUniforms(u, 'b', b!, batch.length);
    u.f32('alpha', alpha)
      .f32('beta', beta)
      .u32('e_off', e?.offset ?? 0);
    const chosen = kernel === 'auto' ? (info.software ? 'register' : 'tiled') : kernel;
    const t = wgslType(a!.dtype);
    const unitA = a!.strides[a!.shape.length - 1] === 1;
    const unitB = b!.strides[b!.shape.length - 1] === 1;
    const [tileRows, tileCols] = matmulTile(chosen, m, n);
    const tile = registerTile(m, n);
    const sg = info.subgroups;
    const variant =
      chosen === 'register' ? `${chosen}${tile.rows}x${tile.cols}${sg ? 'sg' : ''}` : chosen;
    return {
      key: `matmul:${variant}:${a!.dtype}:${unitA ? 'u' : 's'}${unitB ? 'u' : 's'}:${epilogue}`,
      code: () => matmulWgsl(chosen, t, u, unitA, unitB, epilogue, tile, sg),
      uniforms: u,
      workgroups: [Math.ceil(n / tileCols), Math.ceil(m / tileRows), Math.max(1, sizeOf(batch))],
    };
  },
  cpu: ([a, b, e], [c], { alpha, beta, epilogue }) => {
    const { batch, m, k, n } = dims(a!, b!);
    const rank = batch.length;
    const aB = alignedStrides(
      { ...a!, shape: a!.shape.slice(0, -2), strides: a!.strides.slice(0, -2) },
      rank,
    );
    const bB = alignedStrides(
      { ...b!, shape: b!.shape.slice(0, -2), strides: b!.strides.slice(0, -2) },
      rank,
    );
    const ra = a!.shape.length;
    const rb = b!.shape.length;
    const [as0, as1] = [a!.strides[ra - 2]!, a!.strides[ra - 1]!];
    const [bs0, bs1] = [b!.strides[rb - 2]!, b!.strides[rb - 1]!];
    const batches = sizeOf(batch);
    const row = new Float64Array(n);
    for (let bi = 0; bi < batches; bi++) {
      let rem = bi;
      let offA = a!.offset;
      let offB = b!.offset;
      for (let d = rank - 1; d >= 0; d--) {
        const idx = rem % batch[d]!;
        rem = Math.floor(rem / batch[d]!);
        offA += idx * aB[d]!;
        offB += idx * bB[d]!;
      }
      for (let i = 0; i < m; i++) {
        row.fill(0);
        for (let p = 0; p < k; p++) {
          const av = a!.data[offA + i * as0 + p * as1]!;
          const bRow = offB + p * bs0;
          for (let j = 0; j < n; j++) row[j]! += av * b!.data[bRow + j * bs1]!;
        }
        const at = bi * m * n + i * n;
        for (let j = 0; j < n; j++) {
          const eo = e?.offset ?? 0;
          const extra =
            epilogue === 'row' ? e!.data[eo + j]! : epilogue === 'full' ? e!.data[eo + at + j]! : 0;
          row[j] = alpha * row[j]! + beta * extra;
        }
        c!.data.set(row, at);
      }
    }
  },
  wasm: ([a, b, e], [c], params, context) => {
    const { batch, m, k, n } = dims(a!, b!);
    return matmulWasm(a!, b!, e, c!, batch, [m, k, n], params, context);
  },
  backward: ([g], { inputs: [a, b, e], params: { kernel, alpha, beta } }) => {
    const scaled = alpha === 1 ? g! : mul(g!, alpha);
    // Only the gradients some input needs: a frozen weight (LoRA, a fixed embedding) or a data
    // input costs no product, as PyTorch's needs_input_grad.
    const ga = a!.requiresGrad
      ? sumToShape(matmul(scaled, transpose(b!), { kernel }), a!.shape)
      : null;
    const gb = b!.requiresGrad
      ? sumToShape(matmul(transpose(a!), scaled, { kernel }), b!.shape)
      : null;
    const grads = [ga, gb];
    if (e) grads.push(e.requiresGrad ? sumToShape(beta === 1 ? g! : mul(g!, beta), e.shape) : null);
    return grads;
  },
});

const MATMUL_OPTIONS = ['kernel', 'splitK'] as const;

export interface MatmulOptions {
  /**
   * The WebGPU kernel: `auto` (default) takes `register` on CPU implementations of WebGPU
   * (lavapipe, SwiftShader) and `tiled` on real GPUs. The others are for tests and benchmarks.
   */
  kernel?: MatmulKernel | 'auto';
  /**
   * Split-K: compute the product as this many partial products over slices of K, summed
   * afterwards. `auto` (default) splits on GPUs when the output has too few tiles to fill the
   * device and K is long (weight gradients: [d, B·T] @ [B·T, d]); never on CPU implementations
   * of WebGPU, where it measured no faster. Only applies where no gradient is recorded
   * (backward passes, `noGrad`) and to 2-D products; `auto` keeps slices of at least 256, and
   * an explicit count must divide K.
   */
  splitK?: number | 'auto';
}

/**
 * Matrix product with NumPy/PyTorch semantics: batch dimensions broadcast, 1-D operands are
 * promoted to a row (left) or a column (right) vector and the added dimension is removed.
 * Transposed operands (views from `transpose`) are read in place, without a copy.
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  checkOptions('matmul', options, MATMUL_OPTIONS);
  const kernel = options.kernel ?? 'auto';
  if (!['auto', 'tiled', 'register'].includes(kernel)) {
    throw new TypeError(
      `matmul: kernel must be 'auto', 'tiled' or 'register', got ${JSON.stringify(kernel)}`,
    );
  }
  const splitK = options.splitK ?? 'auto';
  if (splitK !== 'auto' && !(Number.isInteger(splitK) && splitK >= 1)) {
    throw new TypeError(
      `matmul: splitK must be 'auto' or a positive integer, got ${JSON.stringify(splitK)}`,
    );
  }
  a.assertAlive('matmul');
  b.assertAlive('matmul');
  if (a.rank === 0 || b.rank === 0)
    throw new RangeError(
      `matmul: operands must be at least 1-D (got ${formatShape(a.shape)} and ${formatShape(b.shape)})`,
    );
  const a2 = a.rank === 1 ? reshape(a, [1, a.shape[0]!]) : a;
  const b2 = b.rank === 1 ? reshape(b, [b.shape[0]!, 1]) : b;
  const c = product(a2, b2, kernel, splitK);
  if (a2 === a && b2 === b) return c;
  const shape = [...c.shape];
  if (b.rank === 1) shape.pop();
  if (a.rank === 1) shape.splice(shape.length - (b.rank === 1 ? 1 : 2), 1);
  const out = reshape(c, shape);
  releaseTemporaries(out, c, ...[a2, b2].filter((t, i) => t !== [a, b][i]));
  return out;
}

/**
 * Whether a batch of rows times one matrix can run as one tall product, as PyTorch folds it:
 * [..., M, K] @ [K, N] becomes [(...·M), K] @ [K, N]. Full tiles instead of many short
 * products, and the matrix's gradient is one product over every row instead of a batch of
 * products summed afterwards.
 */
function foldsRows(a: Tensor, b: Tensor): boolean {
  return b.rank === 2 && a.rank > 2 && a.isContiguous;
}

/** a @ b for operands of rank ≥ 2. */
function product(
  a: Tensor,
  b: Tensor,
  kernel: MatmulKernel | 'auto',
  splitK: number | 'auto',
): Tensor {
  if (foldsRows(a, b)) {
    const rows = reshape(a, [-1, a.shape[a.rank - 1]!]);
    const y = product(rows, b, kernel, splitK);
    const out = reshape(y, [...a.shape.slice(0, -1), b.shape[1]!]);
    releaseTemporaries(out, rows, y);
    return out;
  }
  const noGradNeeded = !isGradEnabled() || (!a.requiresGrad && !b.requiresGrad);
  if (a.rank === 2 && b.rank === 2 && noGradNeeded) {
    const [m, k] = a.shape as [number, number];
    const splits =
      splitK === 'auto' ? autoSplitK(m, k, b.shape[1]!, kernel, a.device.info) : splitK;
    if (k % splits !== 0)
      throw new RangeError(`matmul: splitK ${splits} does not divide the inner dimension ${k}`);
    if (splits > 1) return splitKProduct(a, b, splits, kernel);
  }
  return matmulOp([a, b], { kernel, alpha: 1, beta: 0, epilogue: 'none' })[0]!;
}

/** The shortest slice of K worth a workgroup of its own. */
const MIN_SPLIT_K = 256;

/**
 * How many slices of K to compute in parallel (split-K) on a GPU. A product with a small output
 * and a long K (a weight gradient: [d, B·T] @ [B·T, d]) has too few output tiles to fill the
 * device — each workgroup runs on one multiprocessor — so K is cut into slices whose partial
 * products are summed afterwards. CPU implementations of WebGPU already spread one workgroup's
 * invocations over the cores, and splitting measured no faster there.
 */
function autoSplitK(
  m: number,
  k: number,
  n: number,
  kernel: MatmulKernel | 'auto',
  info: DeviceInfo,
): number {
  if (info.software || info.backend !== 'webgpu') return 1;
  const chosen = kernel === 'auto' ? 'tiled' : kernel;
  const [tileRows, tileCols] = matmulTile(chosen, m, n);
  const tiles = Math.ceil(m / tileRows) * Math.ceil(n / tileCols);
  // About two workgroups per multiprocessor of a large GPU (an H100 or H200 has 132).
  const target = 256;
  let splits = Math.min(Math.ceil(target / tiles), Math.floor(k / MIN_SPLIT_K));
  while (splits > 1 && k % splits !== 0) splits--;
  return splits;
}

/**
 * a @ b as `splits` products over slices of K, read in place through strided views
 * ([splits, M, K/splits] and [splits, K/splits, N]) and summed. Only without autograd: the
 * views share storage with a and b and record no backward.
 */
function splitKProduct(
  a: Tensor,
  b: Tensor,
  splits: number,
  kernel: MatmulKernel | 'auto',
): Tensor {
  const [m, k] = a.shape as [number, number];
  const n = b.shape[1]!;
  const chunk = k / splits;
  const [as0, as1] = a.strides as [number, number];
  const [bs0, bs1] = b.strides as [number, number];
  const aSlices = a.view([splits, m, chunk], [chunk * as1, as0, as1], a.offset);
  const bSlices = b.view([splits, chunk, n], [chunk * bs0, bs0, bs1], b.offset);
  const partial = matmulOp([aSlices, bSlices], { kernel, alpha: 1, beta: 0, epilogue: 'none' })[0]!;
  const c = sum(partial, 0);
  for (const t of [aSlices, bSlices, partial]) t.dispose();
  return c;
}

export interface AddmmOptions extends MatmulOptions {
  /** Multiplies the product (default 1). */
  alpha?: number;
  /** Multiplies the added term (default 1). */
  beta?: number;
}

/**
 * `beta·e + alpha·(a @ b)` in one kernel, the add fused into the matmul's store (as
 * `torch.addmm`): a bias row `[N]` or anything that broadcasts to the output. `a` and `b` are at
 * least 2-D. Linear layers and Newton–Schulz use it to save a pass over the output.
 */
export function addmm(e: Tensor, a: Tensor, b: Tensor, options: AddmmOptions = {}): Tensor {
  checkOptions('addmm', options, [...MATMUL_OPTIONS, 'alpha', 'beta']);
  const kernel = options.kernel ?? 'auto';
  const alpha = options.alpha ?? 1;
  const beta = options.beta ?? 1;
  if (a.rank < 2 || b.rank < 2) {
    throw new RangeError(
      `addmm: a and b must be at least 2-D (got ${formatShape(a.shape)} and ${formatShape(b.shape)})`,
    );
  }
  if (e.dtype !== a.dtype) throw new TypeError(`addmm: dtypes differ (${e.dtype} and ${a.dtype})`);
  const { batch, m, n } = dims(a, b);
  const outShape = [...batch, m, n];
  if (foldsRows(a, b)) {
    const rows = reshape(a, [-1, a.shape[a.rank - 1]!]);
    const isRow = e.rank === 1 && e.shape[0] === n;
    const full = isRow ? e : contiguous(expand(e, outShape));
    const e2 = isRow ? e : reshape(full, [-1, n]);
    const y = addmm(e2, rows, b, options);
    const out = reshape(y, outShape);
    releaseTemporaries(out, rows, y, ...(isRow ? [] : [full, e2]));
    return out;
  }
  if (e.rank === 1 && e.shape[0] === n) {
    const row = contiguous(e);
    const y = matmulOp([a, b, row], { kernel, alpha, beta, epilogue: 'row' })[0]!;
    releaseTemporaries(y, row);
    return y;
  }
  // Anything else is laid out as a full matrix of the output's shape.
  const full = contiguous(expand(e, outShape));
  const y = matmulOp([a, b, full], { kernel, alpha, beta, epilogue: 'full' })[0]!;
  releaseTemporaries(y, full);
  return y;
}
