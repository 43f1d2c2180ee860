// Optimizer updates on the wasm backend (AssemblyScript, SIMD128): the formulas of the fused
// WGSL kernels and CPU references in src/*.ts, four elements at a time, in f32 as on WebGPU.
// Every export takes (task, tasks, ...args) — the contract of `WasmModule` in
// @tessera/tensor-webgpu — and rewrites its share of the elements in place.

/** The first of this task's elements, a multiple of 4; its share ends where task + 1's starts. */
@inline
function shareStart(task: i32, tasks: i32, n: i32): i32 {
  return min(n, <i32>(((<i64>((n + 3) >> 2) * task) / tasks) << 2));
}

/**
 * AdamW as `torch.optim.AdamW` (src/adamw.ts): m ← b1·m + (1 − b1)·g, v ← b2·v + (1 − b2)·g²,
 * p ← p·(1 − lr·wd) − (lr / bc1)·m / (√v / √bc2 + eps).
 */
export function adamw(
  task: i32,
  tasks: i32,
  g: usize,
  p: usize,
  m: usize,
  v: usize,
  n: i32,
  lr: f32,
  wd: f32,
  b1: f32,
  b2: f32,
  eps: f32,
  bc1: f32,
  bc2: f32,
): void {
  const start = shareStart(task, tasks, n);
  const end = shareStart(task + 1, tasks, n);
  const step: f32 = lr / bc1;
  const root: f32 = Mathf.sqrt(bc2);
  const decay: f32 = 1 - lr * wd;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const at = <usize>i << 2;
    const gi = v128.load(g + at);
    const mi = f32x4.add(
      f32x4.mul(f32x4.splat(b1), v128.load(m + at)),
      f32x4.mul(f32x4.splat(<f32>1 - b1), gi),
    );
    const vi = f32x4.add(
      f32x4.mul(f32x4.splat(b2), v128.load(v + at)),
      f32x4.mul(f32x4.mul(f32x4.splat(<f32>1 - b2), gi), gi),
    );
    v128.store(m + at, mi);
    v128.store(v + at, vi);
    const denominator = f32x4.add(f32x4.div(f32x4.sqrt(vi), f32x4.splat(root)), f32x4.splat(eps));
    const decayed = f32x4.mul(v128.load(p + at), f32x4.splat(decay));
    v128.store(p + at, f32x4.sub(decayed, f32x4.div(f32x4.mul(f32x4.splat(step), mi), denominator)));
  }
  for (; i < end; i++) {
    const at = <usize>i << 2;
    const gi = load<f32>(g + at);
    const mi = b1 * load<f32>(m + at) + (1 - b1) * gi;
    const vi = b2 * load<f32>(v + at) + (1 - b2) * gi * gi;
    store<f32>(m + at, mi);
    store<f32>(v + at, vi);
    store<f32>(p + at, load<f32>(p + at) * decay - (step * mi) / (Mathf.sqrt(vi) / root + eps));
  }
}

/**
 * SGD as `torch.optim.SGD` (src/sgd.ts): d = g + wd·p, buf ← μ·buf + d,
 * p ← p − lr·(d + μ·buf) with Nesterov (nesterov > 0.5), else p ← p − lr·buf.
 */
export function sgd(
  task: i32,
  tasks: i32,
  g: usize,
  p: usize,
  buf: usize,
  n: i32,
  lr: f32,
  wd: f32,
  mu: f32,
  nesterov: f32,
): void {
  const start = shareStart(task, tasks, n);
  const end = shareStart(task + 1, tasks, n);
  const useNesterov = nesterov > 0.5;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const at = <usize>i << 2;
    const pi = v128.load(p + at);
    const d = f32x4.add(v128.load(g + at), f32x4.mul(f32x4.splat(wd), pi));
    const b = f32x4.add(f32x4.mul(f32x4.splat(mu), v128.load(buf + at)), d);
    v128.store(buf + at, b);
    const step = useNesterov ? f32x4.add(d, f32x4.mul(f32x4.splat(mu), b)) : b;
    v128.store(p + at, f32x4.sub(pi, f32x4.mul(f32x4.splat(lr), step)));
  }
  for (; i < end; i++) {
    const at = <usize>i << 2;
    const pi = load<f32>(p + at);
    const d = load<f32>(g + at) + wd * pi;
    const b = mu * load<f32>(buf + at) + d;
    store<f32>(buf + at, b);
    store<f32>(p + at, pi - lr * (useNesterov ? d + mu * b : b));
  }
}

/**
 * Lion (Chen et al., 2023; src/lion.ts): c = β1·m + (1 − β1)·g, p ← p·(1 − lr·wd) − lr·sign(c),
 * m ← β2·m + (1 − β2)·g. sign(NaN) is NaN, as Math.sign's.
 */
export function lion(
  task: i32,
  tasks: i32,
  g: usize,
  p: usize,
  m: usize,
  n: i32,
  lr: f32,
  wd: f32,
  b1: f32,
  b2: f32,
): void {
  const start = shareStart(task, tasks, n);
  const end = shareStart(task + 1, tasks, n);
  const decay: f32 = 1 - lr * wd;
  const zero = f32x4.splat(0);
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const at = <usize>i << 2;
    const gi = v128.load(g + at);
    const mi = v128.load(m + at);
    const c = f32x4.add(f32x4.mul(f32x4.splat(b1), mi), f32x4.mul(f32x4.splat(<f32>1 - b1), gi));
    const signs = f32x4.sub(
      v128.and(f32x4.gt(c, zero), f32x4.splat(1)),
      v128.and(f32x4.lt(c, zero), f32x4.splat(1)),
    );
    const sign = v128.bitselect(c, signs, f32x4.ne(c, c)); // NaN stays NaN
    const decayed = f32x4.mul(v128.load(p + at), f32x4.splat(decay));
    v128.store(p + at, f32x4.sub(decayed, f32x4.mul(f32x4.splat(lr), sign)));
    v128.store(
      m + at,
      f32x4.add(f32x4.mul(f32x4.splat(b2), mi), f32x4.mul(f32x4.splat(<f32>1 - b2), gi)),
    );
  }
  for (; i < end; i++) {
    const at = <usize>i << 2;
    const gi = load<f32>(g + at);
    const mi = load<f32>(m + at);
    const c = b1 * mi + (1 - b1) * gi;
    const sign: f32 = c > 0 ? 1 : c < 0 ? -1 : c; // ±0 and NaN stay themselves
    store<f32>(p + at, load<f32>(p + at) * decay - lr * sign);
    store<f32>(m + at, b2 * mi + (1 - b2) * gi);
  }
}
