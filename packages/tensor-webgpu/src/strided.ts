import type { TensorLayout } from './backend.js';
import { contiguousStrides, type Shape, sameShape } from './shape.js';
import { laneRead, type Uniforms } from './uniforms.js';

/** Largest rank a strided kernel indexes (sizes and strides travel in uniforms). */
export const MAX_RANK = 8;

/** True when a layout can be read as `x[i]` for output index `i` (same shape, packed, offset 0). */
export function isDirect(input: TensorLayout, outShape: Shape): boolean {
  if (input.offset !== 0 || !sameShape(input.shape, outShape)) return false;
  const expected = contiguousStrides(input.shape);
  return input.shape.every((d, i) => d === 1 || input.strides[i] === expected[i]);
}

/** Strides of `input` aligned to an output of rank `rank` (broadcast dims get stride 0). */
export function alignedStrides(input: TensorLayout, rank: number): number[] {
  const pad = rank - input.shape.length;
  return Array.from({ length: rank }, (_, d) =>
    d < pad || input.shape[d - pad] === 1 ? 0 : input.strides[d - pad]!,
  );
}

/** Adds the uniforms a strided read of `name` needs: its offset and its aligned strides. */
export function stridedUniforms(
  u: Uniforms,
  name: string,
  input: TensorLayout,
  rank: number,
): void {
  u.u32(`${name}_off`, input.offset).u32s(`${name}_str`, alignedStrides(input, rank), MAX_RANK);
}

/**
 * WGSL function `at_<name>(i)`: the storage index of output element `i` in a strided input.
 * Expects uniforms `shape` (the output's) and those from `stridedUniforms`. The loop over the
 * output's `rank` dimensions is unrolled (so the kernel's key must name the rank): with
 * constant indices into the uniforms, CPU drivers keep sizes and strides in registers.
 */
export function stridedIndexFn(name: string, rank: number): string {
  const lines: string[] = [];
  for (let d = rank - 1; d >= 1; d--) {
    const dim = laneRead('shape', `${d}u`);
    lines.push(`  off += (rem % ${dim}) * ${laneRead(`${name}_str`, `${d}u`)};`);
    lines.push(`  rem /= ${dim};`);
  }
  // What is left of i indexes the first dimension.
  if (rank > 0) lines.push(`  off += rem * ${laneRead(`${name}_str`, '0u')};`);
  return `fn at_${name}(i: u32) -> u32 {
  var rem = i;
  var off = P.${name}_off;
${lines.join('\n')}
  return off;
}
`;
}

/** The CPU twin of `stridedIndexFn`: maps each output index to a storage index. */
export function cpuIndexer(input: TensorLayout, outShape: Shape): (i: number) => number {
  if (isDirect(input, outShape)) return (i) => i;
  const rank = outShape.length;
  const strides = alignedStrides(input, rank);
  const offset = input.offset;
  return (i) => {
    let rem = i;
    let off = offset;
    for (let d = rank - 1; d >= 0; d--) {
      const dim = outShape[d]!;
      off += (rem % dim) * strides[d]!;
      rem = Math.floor(rem / dim);
    }
    return off;
  };
}
