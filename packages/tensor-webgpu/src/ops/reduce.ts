import { isFloat, wgslType } from '../dtype.js';
import { checkOptions } from '../errors.js';
import { storageBindings } from '../kernel.js';
import { defineOp, releaseTemporaries } from '../op.js';
import { normalizeAxes, type Shape, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { Uniforms } from '../uniforms.js';
import { CORE_KERNELS } from '../wasm/core-kernels.js';
import { PARALLEL_MIN_WORK } from '../wasm/wasm-kernel.js';
import { div, eq, mul } from './binary.js';
import { computeType, NAN_WGSL } from './elementwise-kernel.js';
import { ROW_WG, RowPlan } from './rows.js';
import { expand, permute, registerSumTo, reshape } from './view.js';

type Kind = 'sum' | 'max' | 'min' | 'sumsq';

const IDENTITY: Record<Kind, number> = {
  sum: 0,
  max: Number.NEGATIVE_INFINITY,
  min: Number.POSITIVE_INFINITY,
  sumsq: 0,
};
/**
 * Merges two partial results (across threads, or a partial with a value for sum/max/min), in the
 * compute type `t`: float max and min propagate NaN, as in PyTorch.
 */
function combine(kind: Kind, t: string): (a: string, b: string) => string {
  if (kind === 'max' || kind === 'min')
    return (a, b) => (t === 'f32' ? `${kind}_nan(${a}, ${b})` : `${kind}(${a}, ${b})`);
  return (a, b) => `${a} + ${b}`;
}
/** Folds one element into a partial result. */
function accumulate(kind: Kind, t: string): (acc: string, v: string) => string {
  return kind === 'sumsq' ? (acc, v) => `fma(${v}, ${v}, ${acc})` : combine(kind, t);
}
const ACCUMULATE_CPU: Record<Kind, (a: number, b: number) => number> = {
  sum: (a, b) => a + b,
  max: Math.max,
  min: Math.min,
  sumsq: (a, b) => a + b * b,
};

const RW = ROW_WG;

/** The identity of a reduction; float max/min start from ∓∞, which travels in the uniforms. */
function identityWgsl(kind: Kind, type: string): string {
  if (kind === 'sum' || kind === 'sumsq') return `${type}(0)`;
  if (type === 'f32') return 'P.identity';
  if (type === 'i32') return kind === 'max' ? 'i32(-2147483648)' : '2147483647';
  return kind === 'max' ? '0u' : '4294967295u';
}

/**
 * Reduces each row of a [rows, cols] tensor read through its strides (see `RowPlan` for how
 * rows map to threads), so reducing leading axes needs no transposing copy.
 */
const reduceRows = defineOp<{ kind: Kind; rows: number; cols: number }>({
  name: 'reduce_rows',
  stridedInputs: true,
  outputs: ([x], { rows }) => [{ shape: [rows], dtype: x!.dtype }],
  wgsl: ([x], _outs, { kind, rows, cols }, info) => {
    const t = computeType(x!.dtype);
    const plan = new RowPlan(rows, cols, info);
    const [rowStride, colStride] = x!.strides as [number, number];
    const u = plan
      .uniforms(new Uniforms())
      .u32('x_off', x!.offset)
      .u32('rs', rows === 1 ? 0 : rowStride)
      .u32('cs', colStride)
      .f32('identity', IDENTITY[kind]);
    // A unit column stride (the common case) drops the multiply, so loads stay plain.
    const unit = colStride === 1 || cols === 1;
    const at = unit ? 'xb + c' : 'xb + c * P.cs';
    const f16 = x!.dtype === 'f16';
    // Any dtype and min too, so the workgroup tree is written here rather than with plan.reduce.
    const combineTree = plan.perThread
      ? ''
      : `  part[lid] = acc;
  workgroupBarrier();
  for (var s = ${RW / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) { part[lid] = ${combine(kind, t)('part[lid]', 'part[lid + s]')}; }
    workgroupBarrier();
  }
  acc = part[0];
`;
    return {
      key: `reduce:${kind}:${x!.dtype}:${plan.mode}:${unit ? 'u' : 's'}`,
      uniforms: u,
      workgroups: plan.grid(),
      code: () => `${plan.enables(f16)}${u.declaration(2)}${storageBindings([['x', wgslType(x!.dtype)]], [['y', wgslType(x!.dtype)]])}${NAN_WGSL}
${plan.perThread ? '' : `var<workgroup> part: array<${t}, ${RW}>;`}
${plan.header()}  let xb = P.x_off + row * P.rs;
  var acc = ${identityWgsl(kind, t)};
  ${plan.loop()} {
    acc = ${accumulate(kind, t)('acc', `${t}(x[${at}])`)};
  }
${combineTree}  if (lid == 0u) { y[row] = ${wgslType(x!.dtype)}(acc); }
}
`,
    };
  },
  cpu: ([x], [y], { kind, rows, cols }) => {
    const combine = ACCUMULATE_CPU[kind];
    const [rowStride, colStride] = x!.strides as [number, number];
    for (let r = 0; r < rows; r++) {
      let acc = IDENTITY[kind];
      const base = x!.offset + r * rowStride;
      for (let c = 0; c < cols; c++) acc = combine(acc, x!.data[base + c * colStride]!);
      y!.data[r] = acc;
    }
  },
  wasm: ([x], [y], { kind, rows, cols }, context) => {
    if (x!.dtype !== 'f32') return false;
    const [rowStride, colStride] = x!.strides as [number, number];
    context.call(
      CORE_KERNELS,
      `reduce_${kind}`,
      [x!.address + 4 * x!.offset, rows, cols, rows === 1 ? 0 : rowStride, colStride, y!.address],
      rows * cols >= PARALLEL_MIN_WORK && rows > 1,
    );
    return true;
  },
  backward: ([g], { inputs: [x], outputs: [y], params: { kind, rows, cols } }) => {
    const column = reshape(g!, [rows, 1]);
    if (kind === 'sum') return [expand(column, [rows, cols])];
    if (kind === 'sumsq') return [mul(x!, mul(column, 2))];
    // max/min: the gradient goes to the extremal elements, split evenly among ties (as torch.amax).
    const mask = eq(x!, reshape(y!, [rows, 1]));
    return [div(mul(mask, column), sum(mask, 1, { keepDim: true }))];
  },
});

/** Shape of a reduction's result, with or without the reduced axes kept as size 1. */
function reducedShape(shape: Shape, axes: readonly number[], keepDim: boolean): number[] {
  return keepDim
    ? shape.map((d, i) => (axes.includes(i) ? 1 : d))
    : shape.filter((_, i) => !axes.includes(i));
}

export interface ReduceOptions {
  /** Keep reduced axes as size-1 dimensions. */
  keepDim?: boolean;
}

/**
 * Permutes the reduced axes last and reduces rows; the result has the kept (size-1) layout.
 * The [rows, cols] reshape is a view whenever the kept and the reduced axes each merge.
 */
function reduce(x: Tensor, kind: Kind, axes: readonly number[]): Tensor {
  const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const cols = axes.reduce((a, d) => a * x.shape[d]!, 1);
  const rows = sizeOf(x.shape) / Math.max(cols, 1);
  if (cols === 0 && kind !== 'sum')
    throw new RangeError(`${kind}: cannot reduce over an empty dimension`);
  // The reduced axes may come in any order (the reduction does not care), so they go in the
  // order of their strides, largest first: a transposed tensor then merges into one run.
  const reduced = [...axes].sort((a, b) => x.strides[b]! - x.strides[a]!);
  const rowsView = reshape(permute(x, [...kept, ...reduced]), [
    cols === 0 ? sizeOf(kept.map((d) => x.shape[d]!)) : rows,
    cols,
  ]);
  const y = reduceRows([rowsView], { kind, rows: rowsView.shape[0]!, cols })[0]!;
  const out = reshape(y, reducedShape(x.shape, axes, true));
  releaseTemporaries(out, rowsView, y);
  return out;
}

function reduction(kind: Kind) {
  return (x: Tensor, axes?: number | readonly number[], options: ReduceOptions = {}): Tensor => {
    const name = kind === 'sumsq' ? 'sumOfSquares' : kind;
    checkOptions(name, options, ['keepDim']);
    x.assertAlive(name);
    if (kind === 'sumsq' && !isFloat(x.dtype))
      throw new TypeError(`sumOfSquares: expected a floating-point tensor, got ${x.dtype}`);
    const list = normalizeAxes(axes, x.rank, name);
    const keptLayout = reduce(x, kind, list);
    const y = reshape(keptLayout, reducedShape(x.shape, list, options.keepDim ?? false));
    releaseTemporaries(y, keptLayout);
    return y;
  };
}

/** Sum over `axes` (all when omitted). */
export const sum = reduction('sum');
/** Maximum over `axes` (all when omitted); NaN propagates; the gradient is split among ties. */
export const max = reduction('max');
/** Minimum over `axes` (all when omitted); NaN propagates; the gradient is split among ties. */
export const min = reduction('min');
/**
 * Σ x² over `axes` (all when omitted) in one pass, without materialising x²: the squared L2
 * norm (`torch.linalg.vector_norm(x) ** 2`), as gradient clipping needs for every parameter.
 */
export const sumOfSquares = reduction('sumsq');

/** Mean over `axes` (all when omitted). */
export function mean(
  x: Tensor,
  axes?: number | readonly number[],
  options: ReduceOptions = {},
): Tensor {
  checkOptions('mean', options, ['keepDim']);
  if (!isFloat(x.dtype))
    throw new TypeError(`mean: expected a floating-point tensor, got ${x.dtype}`);
  const list = normalizeAxes(axes, x.rank, 'mean');
  const count = list.reduce((a, d) => a * x.shape[d]!, 1);
  const s = sum(x, list, options);
  const y = div(s, count);
  releaseTemporaries(y, s);
  return y;
}

/** Sums a gradient back to `shape` (the inverse of broadcasting). */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let d = 0; d < g.rank; d++)
    if (d < lead || (shape[d - lead] === 1 && g.shape[d] !== 1)) axes.push(d);
  if (axes.length === 0) return reshape(g, shape);
  const s = sum(g, axes, { keepDim: true });
  const y = reshape(s, shape);
  releaseTemporaries(y, s);
  return y;
}
registerSumTo(sumToShape);
