import { normalizeAxis, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { permute, reshape } from './view.js';

/** Threads per workgroup for row kernels (one workgroup per row). */
export const ROW_WG = 256;

/** Workgroups for `rows` rows, folded into y past 65535; the kernel reads the fold from `P.gx`. */
export function rowGrid(rows: number): [number, number, number] {
  const gx = Math.min(Math.max(rows, 1), 65535);
  return [gx, Math.ceil(Math.max(rows, 1) / gx), 1];
}

/** WGSL header of a row kernel: `row`, `lid`, and an early return past the last row. */
export function rowKernelHeader(): string {
  return `@compute @workgroup_size(${ROW_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * P.gx;
  if (row >= P.rows) { return; }
  let base = row * P.cols;
`;
}

type Combine = (a: string, b: string) => string;

/**
 * WGSL: combines `buf[0..ROW_WG)` into `buf[0]` with `combine` (several buffers at once when
 * given pairs), ending with a barrier.
 */
export function treeReduce(buf: string | [string, Combine][], combine?: Combine): string {
  const pairs = typeof buf === 'string' ? [[buf, combine!] as [string, Combine]] : buf;
  const steps = pairs.map(([b, f]) => `${b}[lid] = ${f(`${b}[lid]`, `${b}[lid + s]`)};`).join(' ');
  return `  workgroupBarrier();
  for (var s = ${ROW_WG / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) { ${steps} }
    workgroupBarrier();
  }
`;
}

/**
 * Moves `axis` last and flattens the rest, so a row kernel sees a [rows, cols] tensor.
 * `restore` maps a [rows, n] result back to the original layout (a view), `n` along `axis`.
 */
export function asRows(
  x: Tensor,
  axis: number,
  op: string,
): { rows2d: Tensor; restore: (y: Tensor) => Tensor } {
  const a = normalizeAxis(axis, x.rank, op);
  const cols = x.rank === 0 ? 1 : x.shape[a]!;
  const rows = cols === 0 ? sizeOf(x.shape.filter((_, i) => i !== a)) : x.size / cols;
  const order = [...x.shape.keys()].filter((i) => i !== a).concat(x.rank === 0 ? [] : [a]);
  const moved = x.rank === 0 ? x : permute(x, order);
  const rows2d = reshape(moved, [rows, cols]);
  const inverse = order.map((_, i) => order.indexOf(i));
  return {
    rows2d,
    // A result may have another last size than `cols` (topk keeps k columns).
    restore: (y) => {
      const back = reshape(y, [...moved.shape.slice(0, -1), y.shape[1] ?? 1]);
      return x.rank === 0 ? back : permute(back, inverse);
    },
  };
}
