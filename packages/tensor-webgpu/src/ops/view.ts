import { wgslType } from '../dtype.js';
import { entry1d, grid1d, storageBindings } from '../kernel.js';
import { defineOp, registerContiguous, runInPlace } from '../op.js';
import { isGradEnabled } from '../scope.js';
import {
  contiguousStrides,
  formatShape,
  normalizeAxis,
  type Shape,
  sizeOf,
  viewStrides,
} from '../shape.js';
import { cpuIndexer, MAX_RANK, stridedIndexFn, stridedUniforms } from '../strided.js';
import type { Tensor } from '../tensor.js';
import { Uniforms } from '../uniforms.js';
import { elementwiseWasm } from './elementwise-kernel.js';

/**
 * Views share storage with their source and record a gradient node of their own, so
 * autograd sees them like any op. Their backward rules are views or copies too.
 */
function recordView(
  out: Tensor,
  source: Tensor,
  name: string,
  backward: (g: Tensor) => Tensor,
): Tensor {
  if (source.requiresGrad && isGradEnabled()) {
    out.node = {
      name,
      inputs: [source],
      outputs: [out],
      backward: ([g]) => [g ? backward(g) : null],
    };
    out.requiresGrad = true;
  }
  return out;
}

// Copies a strided tensor into a packed one, optionally under a new shape of the same size.
const copyOp = defineOp<{ shape: Shape }>({
  name: 'contiguous',
  stridedInputs: true,
  outputs: ([x], { shape }) => [{ shape, dtype: x!.dtype }],
  wgsl: ([x], _o, _p, info) => {
    const rank = x!.shape.length;
    const n = sizeOf(x!.shape);
    const u = new Uniforms().u32('n', n).u32s('shape', x!.shape, MAX_RANK);
    stridedUniforms(u, 'a', x!, rank);
    const t = wgslType(x!.dtype);
    const f16 = x!.dtype === 'f16';
    return {
      key: `copy:${x!.dtype}:r${rank}`,
      uniforms: u,
      workgroups: grid1d(n, info),
      code: () =>
        `${f16 ? 'enable f16;\n' : ''}${u.declaration(2)}${storageBindings([['xa', t]], [['y', t]])}${stridedIndexFn('a', rank)}${entry1d(
          '  if (i >= P.n) { return; }\n  y[i] = xa[at_a(i)];',
        )}`,
    };
  },
  cpu: ([x], [y]) => {
    const at = cpuIndexer(x!, x!.shape);
    const n = sizeOf(x!.shape);
    for (let i = 0; i < n; i++) y!.data[i] = x!.data[at(i)]!;
  },
  // A copy moves 4-byte elements unchanged, whatever their dtype (wasm holds f16 as f32 too).
  wasm: ([x], [y], _p, context) =>
    elementwiseWasm('copy', [x!], { ...y!, shape: x!.shape }, context, true),
  backward: ([g], { inputs: [x] }) => [reshape(g!, x!.shape)],
});

/** Copies `source` (broadcast to the destination's shape) into `target` in place; returns `target`. */
export function copy_(target: Tensor, source: Tensor): Tensor {
  const src = expand(source, target.shape);
  runInPlace(copyOp, [src], { shape: target.shape }, [target]);
  src.dispose();
  return target;
}

/** A contiguous copy of `x` (or `x` itself as a new view when already contiguous). */
export function contiguous(x: Tensor): Tensor {
  if (x.isContiguous)
    return recordView(x.view(x.shape, x.strides, x.offset), x, 'contiguous', (g) => g);
  return copyOp([x], { shape: x.shape })[0]!;
}
registerContiguous((x) => copyOp([x], { shape: x.shape })[0]!);

function resolveShape(shape: readonly number[], size: number, op: string, from: Shape): number[] {
  const inferred = shape.indexOf(-1);
  if (shape.some((d, i) => !Number.isInteger(d) || d < -1 || (d === -1 && i !== inferred))) {
    throw new RangeError(
      `${op}: invalid shape ${formatShape(shape)} (dimensions must be >= 0, with at most one -1)`,
    );
  }
  const known = shape.reduce((a, d) => (d === -1 ? a : a * d), 1);
  const out = [...shape];
  if (inferred >= 0) {
    if (known === 0 || size % known !== 0)
      throw new RangeError(`${op}: cannot reshape ${formatShape(from)} to ${formatShape(shape)}`);
    out[inferred] = size / known;
  }
  if (sizeOf(out) !== size)
    throw new RangeError(
      `${op}: cannot reshape ${formatShape(from)} (${size} elements) to ${formatShape(shape)}`,
    );
  return out;
}

/** Same data, new shape (one dimension may be -1). A view when `x` is contiguous, else a copy. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  x.assertAlive('reshape');
  const out = resolveShape(shape, x.size, 'reshape', x.shape);
  // A view whenever the layout allows one (merging or splitting runs of contiguous dimensions,
  // as PyTorch's reshape), else a copy.
  const strides = x.isContiguous ? contiguousStrides(out) : viewStrides(x.shape, x.strides, out);
  if (!strides) return copyOp([x], { shape: out })[0]!;
  return recordView(x.view(out, strides, x.offset), x, 'reshape', (g) => reshape(g, x.shape));
}

/** PyTorch's `view`: like reshape but never copies (errors on a non-contiguous tensor). */
export function view(x: Tensor, shape: readonly number[]): Tensor {
  if (!x.isContiguous)
    throw new Error(
      `view: tensor of shape ${formatShape(x.shape)} is not contiguous; use reshape()`,
    );
  return reshape(x, shape);
}

/** Reorders dimensions (a view). */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  x.assertAlive('permute');
  const axes = dims.map((d) => normalizeAxis(d, x.rank, 'permute'));
  if (axes.length !== x.rank || new Set(axes).size !== x.rank) {
    throw new RangeError(
      `permute: dims ${JSON.stringify(dims)} must be a permutation of 0..${x.rank - 1}`,
    );
  }
  const inverse = new Array<number>(axes.length);
  axes.forEach((a, i) => {
    inverse[a] = i;
  });
  return recordView(
    x.view(
      axes.map((a) => x.shape[a]!),
      axes.map((a) => x.strides[a]!),
      x.offset,
    ),
    x,
    'permute',
    (g) => permute(g, inverse),
  );
}

/** Swaps two dimensions (a view); defaults to the last two. */
export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  const a = normalizeAxis(dim0, x.rank, 'transpose');
  const b = normalizeAxis(dim1, x.rank, 'transpose');
  const dims = Array.from({ length: x.rank }, (_, i) => (i === a ? b : i === b ? a : i));
  return permute(x, dims);
}

/** Broadcasts size-1 dimensions to `shape` without copying (stride 0). -1 keeps a dimension. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  x.assertAlive('expand');
  const lead = shape.length - x.rank;
  if (lead < 0)
    throw new RangeError(
      `expand: cannot expand ${formatShape(x.shape)} to fewer dimensions ${formatShape(shape)}`,
    );
  const outShape: number[] = [];
  const strides: number[] = [];
  shape.forEach((d, i) => {
    const src = i < lead ? 1 : x.shape[i - lead]!;
    const size = d === -1 ? src : d;
    if (src !== size && src !== 1)
      throw new RangeError(
        `expand: cannot expand ${formatShape(x.shape)} to ${formatShape(shape)} (dimension ${i})`,
      );
    outShape.push(size);
    strides.push(i < lead || (src === 1 && size !== 1) ? 0 : x.strides[i - lead]!);
  });
  return recordView(x.view(outShape, strides, x.offset), x, 'expand', (g) =>
    sumToShape(g, x.shape),
  );
}

// Set by reduce.ts (which imports this file), to sum an expanded gradient back.
let sumToShape: (g: Tensor, shape: Shape) => Tensor = () => {
  throw new Error('sumTo not registered');
};
/** @internal */
export function registerSumTo(fn: (g: Tensor, shape: Shape) => Tensor): void {
  sumToShape = fn;
}

/** Elements `start` (inclusive) to `end` (exclusive) with `step` along `dim` (a view). */
export function slice(x: Tensor, dim: number, start = 0, end?: number, step = 1): Tensor {
  x.assertAlive('slice');
  const d = normalizeAxis(dim, x.rank, 'slice');
  const size = x.shape[d]!;
  if (!Number.isInteger(step) || step < 1)
    throw new RangeError(`slice: step must be a positive integer, got ${step}`);
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + size : v, 0), size);
  const s = clamp(start);
  const e = Math.max(clamp(end ?? size), s);
  const shape = [...x.shape];
  shape[d] = Math.ceil((e - s) / step);
  const strides = [...x.strides];
  strides[d] = x.strides[d]! * step;
  const y = x.view(shape, strides, x.offset + s * x.strides[d]!);
  return recordView(y, x, 'slice', (g) => padSlice(g, x.shape, d, s, step));
}

/** `narrow(x, dim, start, length)`, as in PyTorch. */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  return slice(x, dim, start, start + length);
}

// Gradient of slice: scatter into zeros. Implemented in concat.ts with a strided write.
let padSlice: (g: Tensor, shape: Shape, dim: number, start: number, step: number) => Tensor =
  () => {
    throw new Error('slice backward not registered');
  };
/** @internal */
export function registerSliceBackward(fn: typeof padSlice): void {
  padSlice = fn;
}

/** Removes size-1 dimensions (all of them, or the given ones). */
export function squeeze(x: Tensor, dims?: number | readonly number[]): Tensor {
  const list =
    dims === undefined
      ? x.shape.map((_, i) => i).filter((i) => x.shape[i] === 1)
      : (typeof dims === 'number' ? [dims] : [...dims]).map((d) =>
          normalizeAxis(d, x.rank, 'squeeze'),
        );
  return reshape(
    x,
    x.shape.filter((d, i) => !(list.includes(i) && d === 1)),
  );
}

/** Inserts a size-1 dimension at `dim`. */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normalizeAxis(dim, x.rank + 1, 'unsqueeze');
  const shape = [...x.shape];
  shape.splice(d, 0, 1);
  return reshape(x, shape);
}
