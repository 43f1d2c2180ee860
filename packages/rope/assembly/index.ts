// Rotary position embedding on the wasm backend (AssemblyScript): the formula of the WGSL kernel
// and CPU reference in src/apply.ts, y[d] = x[d]·cos + sign·x[partner]·sin·dir, row by row. x is
// read through its strides (heads split from a projection by a transposed view need no copy);
// y, the tables and the positions are contiguous. Every export takes (task, tasks, ...args) —
// the contract of `WasmModule` in @tessera/tensor-webgpu. Positions are checked by the caller.

/** The first of this task's rows; its share ends where task + 1's starts. */
@inline
function shareStart(task: i32, tasks: i32, rows: i32): i32 {
  return <i32>((<i64>rows * task) / tasks);
}

/**
 * Rotates rows [.., dim] of x (rank `rank`; `shape` and `strides` are i32 tables, strides in
 * elements from the first element `x`) into y. `convention` 0 pairs d with d + rotary/2 (half),
 * 1 pairs 2i with 2i + 1 (interleaved); `dir` is 1, or −1 for the inverse rotation.
 */
export function rope(
  task: i32,
  tasks: i32,
  x: usize,
  shape: usize,
  strides: usize,
  rank: i32,
  cosT: usize,
  sinT: usize,
  pos: usize,
  y: usize,
  rows: i32,
  rotary: i32,
  seq: i32,
  inner: i32,
  batchRows: i32,
  posStride: i32,
  dir: f32,
  convention: i32,
): void {
  const dim = load<i32>(shape + (<usize>(rank - 1) << 2));
  const step = <usize>load<i32>(strides + (<usize>(rank - 1) << 2)) << 2;
  const h = rotary / 2;
  const end = shareStart(task + 1, tasks, rows);
  for (let row = shareStart(task, tasks, rows); row < end; row++) {
    // The row's first element in x: its index over the leading axes, through their strides.
    let rest = row;
    let base: usize = x;
    for (let axis = rank - 2; axis >= 0; axis--) {
      const size = load<i32>(shape + (<usize>axis << 2));
      const stride = load<i32>(strides + (<usize>axis << 2));
      base += <usize>((rest % size) * stride) << 2;
      rest /= size;
    }
    const s = (row / inner) % seq;
    const p = load<i32>(pos + (<usize>((row / batchRows) * posStride + s) << 2));
    const c = cosT + (<usize>(p * h) << 2);
    const sn = sinT + (<usize>(p * h) << 2);
    const out = y + (<usize>(row * dim) << 2);
    if (convention == 0) {
      for (let f = 0; f < h; f++) {
        const cf = load<f32>(c + (<usize>f << 2));
        const sf = load<f32>(sn + (<usize>f << 2)) * dir;
        const a = load<f32>(base + <usize>f * step);
        const b = load<f32>(base + <usize>(f + h) * step);
        store<f32>(out + (<usize>f << 2), a * cf - b * sf);
        store<f32>(out + (<usize>(f + h) << 2), b * cf + a * sf);
      }
    } else {
      for (let f = 0; f < h; f++) {
        const cf = load<f32>(c + (<usize>f << 2));
        const sf = load<f32>(sn + (<usize>f << 2)) * dir;
        const a = load<f32>(base + <usize>(2 * f) * step);
        const b = load<f32>(base + <usize>(2 * f + 1) * step);
        store<f32>(out + (<usize>(2 * f) << 2), a * cf - b * sf);
        store<f32>(out + (<usize>(2 * f + 1) << 2), b * cf + a * sf);
      }
    }
    for (let d = rotary; d < dim; d++) {
      store<f32>(out + (<usize>d << 2), load<f32>(base + <usize>d * step));
    }
  }
}
