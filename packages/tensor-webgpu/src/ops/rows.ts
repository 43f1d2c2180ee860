import type { DeviceInfo } from '../device.js';
import { normalizeAxis, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { Uniforms } from '../uniforms.js';
import { permute, reshape } from './view.js';

/** Threads per workgroup for row kernels that give each row a workgroup. */
export const ROW_WG = 256;
/** Threads per workgroup when each thread owns a row. */
const THREAD_WG = 64;

type Combine = (a: string, b: string) => string;
const COMBINE: Record<'sum' | 'max', Combine> = {
  sum: (a, b) => `${a} + ${b}`,
  max: (a, b) => `max(${a}, ${b})`,
};
const SUBGROUP_OP: Record<'sum' | 'max', string> = { sum: 'subgroupAdd', max: 'subgroupMax' };

/**
 * How a row kernel (softmax, norms, cross-entropy, reductions) maps rows to threads. Its code is
 * written once against this plan — `header`, `loop`, `reduce` — and comes out in one of three forms:
 * - `thread`: one thread per row, no barriers. On CPU implementations of WebGPU (lavapipe) a
 *   barrier is a coroutine switch, and with enough rows this runs 2–5× faster.
 * - `wg-sg`: a workgroup per row; subgroups reduce in registers and one barrier joins them.
 * - `wg`: a workgroup per row with tree reductions in workgroup memory (the fallback).
 */
export class RowPlan {
  readonly mode: 'thread' | 'wg-sg' | 'wg';

  constructor(
    readonly rows: number,
    readonly cols: number,
    info: DeviceInfo,
    options: { threadPerRow?: boolean } = {},
  ) {
    const threadOk = options.threadPerRow ?? true;
    if (threadOk && info.software && rows >= THREAD_WG) this.mode = 'thread';
    else this.mode = info.subgroups ? 'wg-sg' : 'wg';
  }

  get perThread(): boolean {
    return this.mode === 'thread';
  }

  /** Workgroups to dispatch; past 65535 the rest folds into y (the kernel reads `P.gx`). */
  grid(): [number, number, number] {
    const groups = Math.max(1, this.perThread ? Math.ceil(this.rows / THREAD_WG) : this.rows);
    const gx = Math.min(groups, 65535);
    return [gx, Math.ceil(groups / gx), 1];
  }

  /** Adds `rows`, `cols` and `gx` to a kernel's uniforms. */
  uniforms(u: Uniforms): Uniforms {
    return u.u32('rows', this.rows).u32('cols', this.cols).u32('gx', this.grid()[0]);
  }

  /** The `enable` lines the kernel needs. */
  enables(f16: boolean): string {
    return `${f16 ? 'enable f16;\n' : ''}${this.mode === 'wg-sg' ? 'enable subgroups;\n' : ''}`;
  }

  /** Workgroup arrays for reductions (none when each thread owns a row). */
  buffers(...names: string[]): string {
    if (this.perThread) return '';
    return names.map((n) => `var<workgroup> ${n}: array<f32, ${ROW_WG}>;\n`).join('');
  }

  /** Entry point up to the body: defines `row`, `lid`, `base` and returns past the last row. */
  header(): string {
    if (this.perThread) {
      return `@compute @workgroup_size(${THREAD_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row = gid.x + gid.y * P.gx * ${THREAD_WG}u;
  if (row >= P.rows) { return; }
  let lid = 0u;
  let base = row * P.cols;
`;
    }
    const sg =
      this.mode === 'wg-sg'
        ? ', @builtin(subgroup_size) sg_size: u32, @builtin(subgroup_invocation_id) sg_id: u32'
        : '';
    return `@compute @workgroup_size(${ROW_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32${sg}) {
  let row = wid.x + wid.y * P.gx;
  if (row >= P.rows) { return; }
  let base = row * P.cols;
`;
  }

  /** `for` over this thread's columns of the row: `c` from `lid`, stepping by the thread count. */
  loop(): string {
    return `for (var c = lid; c < P.cols; c += ${this.perThread ? 1 : ROW_WG}u)`;
  }

  /**
   * WGSL declaring `let <out>`: the sum or max of each thread's `value` over the row, the same in
   * every thread of it. `buf` is a workgroup array from `buffers`, free again afterwards.
   */
  reduce(out: string, value: string, op: 'sum' | 'max', buf: string): string {
    const combine = COMBINE[op];
    if (this.perThread) return `  let ${out} = ${value};\n`;
    if (this.mode === 'wg-sg') {
      return `  let ${out}_part = ${SUBGROUP_OP[op]}(${value});
  if (sg_id == 0u) { ${buf}[lid / sg_size] = ${out}_part; }
  workgroupBarrier();
  var ${out}_acc = ${buf}[0];
  for (var q = 1u; q < ${ROW_WG}u / sg_size; q++) { ${out}_acc = ${combine(`${out}_acc`, `${buf}[q]`)}; }
  let ${out} = ${out}_acc;
  workgroupBarrier();
`;
    }
    return `  ${buf}[lid] = ${value};
  workgroupBarrier();
  for (var s = ${ROW_WG / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) { ${buf}[lid] = ${combine(`${buf}[lid]`, `${buf}[lid + s]`)}; }
    workgroupBarrier();
  }
  let ${out} = ${buf}[0];
  workgroupBarrier();
`;
  }
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
