import { wgslType } from '../dtype.js';
import { entry1d, grid1d, storageBindings } from '../kernel.js';
import { defineOp } from '../op.js';
import { contiguousStrides, type Shape, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { Uniforms } from '../uniforms.js';
import { registerSliceBackward, slice } from './view.js';

interface Params {
  shape: Shape;
  dim: number;
  start: number;
  step: number;
}

/**
 * Zeros of `shape` with `src` written at `start, start+step, ...` along `dim`: the gradient of
 * `slice`, and the building block of `cat`'s backward.
 */
const sliceScatterOp = defineOp<Params>({
  name: 'slice_scatter',
  outputs: ([src], { shape }) => [{ shape, dtype: src!.dtype }],
  wgsl: ([src], _o, { shape, dim, start, step }, info) => {
    const n = sizeOf(shape);
    const inner = contiguousStrides(shape)[dim]!;
    const u = new Uniforms()
      .u32('n', n)
      .u32('inner', inner)
      .u32('size', shape[dim]!)
      .u32('start', start)
      .u32('step', step)
      .u32('count', src!.shape[dim]!);
    const t = wgslType(src!.dtype);
    return {
      key: `slice_scatter:${src!.dtype}`,
      uniforms: u,
      workgroups: grid1d(n, info),
      code: () =>
        `${t === 'f16' ? 'enable f16;\n' : ''}${u.declaration(2)}${storageBindings([['src', t]], [['y', t]])}${entry1d(`  if (i >= P.n) { return; }
  let c = (i / P.inner) % P.size;
  let outer = i / (P.inner * P.size);
  let rel = i32(c) - i32(P.start);
  var v = ${t}(0);
  if (rel >= 0 && u32(rel) % P.step == 0u && u32(rel) / P.step < P.count) {
    v = src[(outer * P.count + u32(rel) / P.step) * P.inner + i % P.inner];
  }
  y[i] = v;`)}`,
    };
  },
  cpu: ([src], [y], { shape, dim, start, step }) => {
    const inner = contiguousStrides(shape)[dim]!;
    const size = shape[dim]!;
    const count = src!.shape[dim]!;
    const n = sizeOf(shape);
    for (let i = 0; i < n; i++) {
      const c = Math.floor(i / inner) % size;
      const outer = Math.floor(i / (inner * size));
      const rel = c - start;
      const hit = rel >= 0 && rel % step === 0 && rel / step < count;
      y!.data[i] = hit ? src!.data[(outer * count + rel / step) * inner + (i % inner)]! : 0;
    }
  },
  backward: ([g], { inputs: [src], params: { dim, start, step } }) => [
    slice(g!, dim, start, start + src!.shape[dim]! * step, step),
  ],
});

/** The inverse of `slice`: a zero tensor of `shape` holding `src` at the sliced positions. */
export function sliceScatter(
  src: Tensor,
  shape: Shape,
  dim: number,
  start: number,
  step = 1,
): Tensor {
  return sliceScatterOp([src], { shape: [...shape], dim, start, step })[0]!;
}

registerSliceBackward(sliceScatter);
