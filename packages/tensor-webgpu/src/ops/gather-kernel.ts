import type { TensorLayout } from '../backend.js';
import type { DeviceInfo } from '../device.js';
import { checkWgsl } from '../device-checks.js';
import { wgslType } from '../dtype.js';
import { entry1d, type GpuKernel, grid1d, storageBindings } from '../kernel.js';
import { contiguousStrides, type Shape, sizeOf } from '../shape.js';
import { MAX_RANK, stridedIndexFn, stridedUniforms } from '../strided.js';
import { laneRead, Uniforms } from '../uniforms.js';

/**
 * Gather and scatter share one addressing rule: element `i` of `index` (shape `idx`) maps to the
 * element of the big tensor (strides `big`) at the same coordinates, except along `dim`, where
 * the coordinate is `index[i]`.
 */
export function addressUniforms(
  check: number,
  idx: Shape,
  bigShape: Shape,
  dim: number,
  n: number,
): Uniforms {
  return new Uniforms()
    .u32('check', check)
    .u32('n', n)
    .u32('rank', idx.length)
    .u32('dim', dim)
    .u32('dimSize', bigShape[dim]!)
    .u32s('shape', idx, MAX_RANK)
    .u32s('big', contiguousStrides(bigShape), MAX_RANK);
}

export const ADDRESS_FN = `fn address(i: u32, at: i32) -> u32 {
  var rem = i;
  var off = 0u;
  for (var d = i32(P.rank) - 1; d >= 0; d--) {
    let dim = ${laneRead('shape', 'u32(d)')};
    let c = select(rem % dim, u32(at), u32(d) == P.dim);
    off += c * ${laneRead('big', 'u32(d)')};
    rem /= dim;
  }
  return off;
}
`;

export function addressCpu(
  idx: Shape,
  bigShape: Shape,
  dim: number,
): (i: number, at: number) => number {
  const big = contiguousStrides(bigShape);
  return (i, at) => {
    let rem = i;
    let off = 0;
    for (let d = idx.length - 1; d >= 0; d--) {
      const size = idx[d]!;
      off += (d === dim ? at : rem % size) * big[d]!;
      rem = Math.floor(rem / size);
    }
    return off;
  };
}

/**
 * The gather kernel. With a `check` code (`checkCode`), an out-of-range index is reported to the
 * device's check buffer; without one it only reads 0 — the unchecked baseline the benchmark
 * measures the check against.
 */
export function gatherKernel(
  x: TensorLayout,
  index: TensorLayout,
  dim: number,
  info: DeviceInfo,
  check?: number,
): GpuKernel {
  const n = sizeOf(index.shape);
  const u = addressUniforms(check ?? 0, index.shape, x.shape, dim, n);
  stridedUniforms(u, 'index', index, index.shape.length);
  const t = wgslType(x.dtype);
  const report = check === undefined ? '' : 'report(P.check, at, P.dimSize); ';
  return {
    key: `gather:${x.dtype}:r${index.shape.length}${check === undefined ? ':unchecked' : ''}`,
    uniforms: u,
    workgroups: grid1d(n, info),
    checks: check !== undefined,
    code: () =>
      `${t === 'f16' ? 'enable f16;\n' : ''}${u.declaration(3)}${storageBindings(
        [
          ['x', t],
          ['index', 'i32'],
        ],
        [['y', t]],
      )}${check === undefined ? '' : checkWgsl(4)}${ADDRESS_FN}${stridedIndexFn('index', index.shape.length)}${entry1d(`  if (i >= P.n) { return; }
  let at = index[at_index(i)];
  if (at < 0 || u32(at) >= P.dimSize) { ${report}y[i] = ${t}(0); return; }
  y[i] = x[address(i, at)];`)}`,
  };
}
