// Flash attention on the wasm backend (AssemblyScript, SIMD128): the forward pass with an online
// softmax, and the recomputing backward pass (dQ with δ, then dK/dV), the same formulas as the
// WGSL kernels and CPU references in src/flash-forward.ts and src/flash-backward.ts. Every export
// takes (task, tasks, ...args) — the contract of `WasmModule` in @tessera/tensor-webgpu — and
// does its share of rows: query rows for the forward pass and dQ, key rows for dK/dV.
//
// Rows are dotted four lanes at a time (a scalar tail when headDim is not a multiple of 4); the
// keys (or queries) a row can see are walked in tiles of TILE, whose probabilities are
// exponentiated four at a time. Per-task scratch (headDim-sized accumulators and the tile) comes
// in as `scratch`, laid out by src/wasm.ts: the module keeps no memory of its own.

import { expV } from '../../tensor-webgpu/assembly/simd-math';

/** Keys (or queries) per tile of scores. */
const TILE = 32;

/**
 * Bytes of scratch one task needs for head dimension `d`: two accumulator rows and two tiles
 * (src/wasm.ts allocates `tasks` times this, by the same formula).
 */
@inline
function taskScratch(d: i32): usize {
  return <usize>(2 * d + 2 * TILE) << 2;
}

/** The first of this task's rows; its share ends where task + 1's starts. */
@inline
function shareStart(task: i32, tasks: i32, rows: i32): i32 {
  return <i32>((<i64>rows * task) / tasks);
}

/** Σ a[d]·b[d] over d < n. */
@inline
function dot(a: usize, b: usize, n: i32): f32 {
  let acc = f32x4.splat(0);
  let d = 0;
  for (; d + 4 <= n; d += 4) {
    acc = f32x4.add(acc, f32x4.mul(v128.load(a + (<usize>d << 2)), v128.load(b + (<usize>d << 2))));
  }
  let s =
    f32x4.extract_lane(acc, 0) +
    f32x4.extract_lane(acc, 1) +
    (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
  for (; d < n; d++) s += load<f32>(a + (<usize>d << 2)) * load<f32>(b + (<usize>d << 2));
  return s;
}

/** y[d] += alpha·x[d] over d < n. */
@inline
function axpy(alpha: f32, x: usize, y: usize, n: i32): void {
  const a = f32x4.splat(alpha);
  let d = 0;
  for (; d + 4 <= n; d += 4) {
    const at = y + (<usize>d << 2);
    v128.store(at, f32x4.add(v128.load(at), f32x4.mul(a, v128.load(x + (<usize>d << 2)))));
  }
  for (; d < n; d++) {
    const at = y + (<usize>d << 2);
    store<f32>(at, load<f32>(at) + alpha * load<f32>(x + (<usize>d << 2)));
  }
}

/** y[d] = alpha·x[d] over d < n (x may be y). */
@inline
function scaleTo(alpha: f32, x: usize, y: usize, n: i32): void {
  const a = f32x4.splat(alpha);
  let d = 0;
  for (; d + 4 <= n; d += 4) {
    v128.store(y + (<usize>d << 2), f32x4.mul(a, v128.load(x + (<usize>d << 2))));
  }
  for (; d < n; d++) store<f32>(y + (<usize>d << 2), alpha * load<f32>(x + (<usize>d << 2)));
}

/** s[c] = e^s[c] for c < n (e^−∞ = 0); returns their sum. The tile has room for whole vectors. */
@inline
function expInPlace(s: usize, n: i32): f32 {
  let acc = f32x4.splat(0);
  let c = 0;
  for (; c + 4 <= n; c += 4) {
    const at = s + (<usize>c << 2);
    const p = expV(v128.load(at));
    v128.store(at, p);
    acc = f32x4.add(acc, p);
  }
  let sum =
    f32x4.extract_lane(acc, 0) +
    f32x4.extract_lane(acc, 1) +
    (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
  if (c < n) {
    const at = s + (<usize>c << 2);
    v128.store(at, expV(v128.load(at)));
    for (; c < n; c++) sum += load<f32>(s + (<usize>c << 2));
  }
  return sum;
}

/**
 * Whether the mask (0: none) lets batch b's query at aligned position a attend key j: a key
 * padding mask needs mask[j] ≠ 0; with `documents` (packed rows: document id + 1, negated on
 * padded keys) key j needs a positive value equal to |mask[a]|, the query's document.
 */
@inline
function maskAllows(mask: usize, maskStride: i32, documents: i32, b: i32, a: i32, j: i32): bool {
  if (mask == 0) return true;
  const row = mask + ((<usize>b * maskStride) << 2);
  const m = load<f32>(row + (<usize>j << 2));
  if (!documents) return m != 0;
  return m > 0 && m == Mathf.abs(load<f32>(row + (<usize>a << 2)));
}

/** Zeroes n floats at `at`. */
@inline
function zero(at: usize, n: i32): void {
  memory.fill(at, 0, <usize>n << 2);
}

/**
 * Forward: O = softmax(q·kᵀ·scale)·v per query row with an online softmax over tiles of keys
 * (running max m, sum l, unnormalised accumulator), and lse = m + log l; a row with no allowed
 * key gets O = 0 and lse = −∞. With `rows` (i32 pairs, else 0), query batch b reads K/V row
 * rows[2b] and sees its first rows[2b + 1] keys (KV-cache decoding).
 */
export function flashForward(
  task: i32,
  tasks: i32,
  q: usize,
  k: usize,
  v: usize,
  mask: usize,
  rows: usize,
  o: usize,
  lse: usize,
  scratch: usize,
  batch: i32,
  heads: i32,
  kvHeads: i32,
  sq: i32,
  sk: i32,
  kcap: i32,
  d: i32,
  scale: f32,
  causal: i32,
  window: i32,
  maskStride: i32,
  documents: i32,
): void {
  const total = batch * heads * sq;
  const end = shareStart(task + 1, tasks, total);
  const acc = scratch + <usize>task * taskScratch(d);
  const s = acc + (<usize>d << 2);
  const group = heads / kvHeads;
  const rowBytes = <usize>d << 2;
  for (let r = shareStart(task, tasks, total); r < end; r++) {
    const i = r % sq;
    const bh = r / sq;
    const b = bh / heads;
    const kvRow = rows ? load<i32>(rows + (<usize>b << 3)) : b;
    const keys = rows ? load<i32>(rows + (<usize>b << 3) + 4) : sk;
    const kvBase = (<usize>(kvRow * kvHeads + (bh % heads) / group) * kcap) * rowBytes;
    // Keys the row may see: causal and window bounds at its aligned position a.
    const a = i + keys - sq;
    let lo = 0;
    let hi = keys;
    if (causal) hi = min(hi, a + 1);
    if (window > 0) {
      lo = max(lo, a - window + 1);
      if (!causal) hi = min(hi, a + window);
    }
    const qRow = q + <usize>r * rowBytes;
    zero(acc, d);
    let m: f32 = -Infinity;
    let l: f32 = 0;
    for (let t = lo; t < hi; t += TILE) {
      const n = min(TILE, hi - t);
      let tileMax: f32 = -Infinity;
      for (let c = 0; c < n; c++) {
        const j = t + c;
        const score: f32 = maskAllows(mask, maskStride, documents, b, a, j)
          ? dot(qRow, k + kvBase + <usize>j * rowBytes, d) * scale
          : -Infinity;
        store<f32>(s + (<usize>c << 2), score);
        tileMax = max(tileMax, score);
      }
      if (tileMax == -Infinity) continue;
      const mNew = max(m, tileMax);
      const alpha = Mathf.exp(m - mNew);
      scaleTo(alpha, acc, acc, d);
      const shift = f32x4.splat(mNew);
      for (let c = 0; c < n; c += 4) {
        const at = s + (<usize>c << 2);
        v128.store(at, f32x4.sub(v128.load(at), shift));
      }
      l = l * alpha + expInPlace(s, n);
      for (let c = 0; c < n; c++) {
        axpy(load<f32>(s + (<usize>c << 2)), v + kvBase + <usize>(t + c) * rowBytes, acc, d);
      }
      m = mNew;
    }
    scaleTo(l > 0 ? 1 / l : 0, acc, o + <usize>r * rowBytes, d);
    store<f32>(lse + (<usize>r << 2), l > 0 ? m + Mathf.log(l) : -Infinity);
  }
}

/**
 * The backward passes' shared loop (FlashAttention-2 recomputation). A fixed row pair (a, b) —
 * (q, dO) of a query row for dQ, (k, v) of a key row for dK/dV — meets the streamed rows
 * n ∈ [lo, hi) with their pairs (x_n, y_n) — (k, v) of the keys, or (q, dO) of the queries — at
 * x + n·rowBytes, y + n·rowBytes, and their statistics lse_n, δ_n at lse + n·statStep,
 * delta + n·statStep (statStep 0: the fixed query row's own). p = e^(scale·a·x_n − lse_n),
 * ds = p·(b·y_n − δ_n); xAcc += ds·x_n and, where yAcc ≠ 0, yAcc += p·y_n. With `maskRow` (else
 * 0), streamed row n needs mask[n] ≠ 0, or with `want` > 0 (packed documents) mask[n] = want —
 * |mask[n]| = want where `absolute` (the streamed rows are queries, whose padding sign does not
 * matter). `s` and `dp` are tiles of scratch.
 */
@inline
function backwardRows(
  lo: i32,
  hi: i32,
  a: usize,
  b: usize,
  x: usize,
  y: usize,
  lse: usize,
  delta: usize,
  statStep: usize,
  maskRow: usize,
  want: f32,
  absolute: bool,
  xAcc: usize,
  yAcc: usize,
  s: usize,
  dp: usize,
  d: i32,
  scale: f32,
): void {
  const rowBytes = <usize>d << 2;
  for (let t = lo; t < hi; t += TILE) {
    const n = min(TILE, hi - t);
    for (let c = 0; c < n; c++) {
      const row = <usize>(t + c);
      let allowed = true;
      if (maskRow != 0) {
        const m = load<f32>(maskRow + (row << 2));
        allowed = want > 0 ? (absolute ? Mathf.abs(m) : m) == want : m != 0;
      }
      const score = dot(a, x + row * rowBytes, d) * scale - load<f32>(lse + row * statStep);
      const dpc = dot(b, y + row * rowBytes, d) - load<f32>(delta + row * statStep);
      store<f32>(s + (<usize>c << 2), allowed ? score : -Infinity);
      store<f32>(dp + (<usize>c << 2), allowed ? dpc : 0);
    }
    expInPlace(s, n);
    for (let c = 0; c < n; c++) {
      const row = <usize>(t + c);
      const p = load<f32>(s + (<usize>c << 2));
      axpy(p * load<f32>(dp + (<usize>c << 2)), x + row * rowBytes, xAcc, d);
      if (yAcc) axpy(p, y + row * rowBytes, yAcc, d);
    }
  }
}

/**
 * Backward, dQ: per query row δ = dO·O, then over its allowed keys p = e^(s − lse),
 * ds = p·(dO·v − δ), dQ = scale·Σ ds·k. Writes dQ and δ (which dK/dV reuse).
 */
export function flashDq(
  task: i32,
  tasks: i32,
  q: usize,
  k: usize,
  v: usize,
  o: usize,
  dO: usize,
  lse: usize,
  mask: usize,
  dq: usize,
  delta: usize,
  scratch: usize,
  batch: i32,
  heads: i32,
  kvHeads: i32,
  sq: i32,
  sk: i32,
  kcap: i32,
  d: i32,
  scale: f32,
  causal: i32,
  window: i32,
  maskStride: i32,
  documents: i32,
): void {
  const total = batch * heads * sq;
  const end = shareStart(task + 1, tasks, total);
  const acc = scratch + <usize>task * taskScratch(d);
  const s = acc + (<usize>d << 2);
  const dp = s + (<usize>TILE << 2);
  const group = heads / kvHeads;
  const rowBytes = <usize>d << 2;
  for (let r = shareStart(task, tasks, total); r < end; r++) {
    const i = r % sq;
    const bh = r / sq;
    const b = bh / heads;
    const kvBase = (<usize>(b * kvHeads + (bh % heads) / group) * kcap) * rowBytes;
    const a = i + sk - sq;
    let lo = 0;
    let hi = sk;
    if (causal) hi = min(hi, a + 1);
    if (window > 0) {
      lo = max(lo, a - window + 1);
      if (!causal) hi = min(hi, a + window);
    }
    const qRow = q + <usize>r * rowBytes;
    const goRow = dO + <usize>r * rowBytes;
    const dl = dot(goRow, o + <usize>r * rowBytes, d);
    store<f32>(delta + (<usize>r << 2), dl);
    zero(acc, d);
    const maskRow = mask ? mask + ((<usize>b * maskStride) << 2) : 0;
    // Packed documents: the keys of the query's own document, |mask[a]|.
    const want: f32 = mask && documents ? Mathf.abs(load<f32>(maskRow + (<usize>a << 2))) : 0;
    // A query in no document (id −1: want 0) sees no key; its lse is −∞, so none may be walked.
    if (mask && documents && want == 0) hi = lo;
    const stat = <usize>r << 2;
    backwardRows(lo, hi, qRow, goRow, k + kvBase, v + kvBase, lse + stat, delta + stat, 0, maskRow,
      want, false, acc, 0, s, dp, d, scale);
    scaleTo(scale, acc, dq + <usize>r * rowBytes, d);
  }
}

/**
 * Backward, dK and dV: per key row j of a KV head, over every query head of its group (GQA sums
 * the group's gradients here) and every query that may see j: p = e^(s − lse),
 * dV = Σ p·dO, dK = scale·Σ p·(dO·v − δ)·q. dK and dV are [batch, kvHeads, sk, headDim].
 */
export function flashDkv(
  task: i32,
  tasks: i32,
  q: usize,
  k: usize,
  v: usize,
  dO: usize,
  lse: usize,
  delta: usize,
  mask: usize,
  dk: usize,
  dv: usize,
  scratch: usize,
  batch: i32,
  heads: i32,
  kvHeads: i32,
  sq: i32,
  sk: i32,
  kcap: i32,
  d: i32,
  scale: f32,
  causal: i32,
  window: i32,
  maskStride: i32,
  documents: i32,
): void {
  const total = batch * kvHeads * sk;
  const end = shareStart(task + 1, tasks, total);
  const accK = scratch + <usize>task * taskScratch(d);
  const accV = accK + (<usize>d << 2);
  const s = accV + (<usize>d << 2);
  const dp = s + (<usize>TILE << 2);
  const group = heads / kvHeads;
  const rowBytes = <usize>d << 2;
  const off = sk - sq;
  for (let r = shareStart(task, tasks, total); r < end; r++) {
    const j = r % sk;
    const bkv = r / sk;
    const b = bkv / kvHeads;
    const at = (<usize>bkv * kcap + j) * rowBytes;
    zero(accK, d);
    zero(accV, d);
    const maskRow = mask ? mask + ((<usize>b * maskStride) << 2) : 0;
    const keyMask: f32 = maskRow ? load<f32>(maskRow + (<usize>j << 2)) : 1;
    if (documents ? keyMask > 0 : keyMask != 0) {
      // Queries that may see key j: query i sits at a = i + off.
      let lo = 0;
      let hi = sq;
      if (causal) lo = max(lo, j - off);
      if (window > 0) {
        hi = min(hi, j + window - off);
        if (!causal) lo = max(lo, j - window - off + 1);
      }
      for (let g = 0; g < group; g++) {
        const first = <usize>(b * heads + (bkv % kvHeads) * group + g) * sq;
        const rows = first * rowBytes;
        const stats = first << 2;
        // Packed documents: the queries of key j's document (query i's at mask[i + off]).
        const queryMask = mask && documents ? maskRow + (<usize>off << 2) : 0;
        backwardRows(lo, hi, k + at, v + at, q + rows, dO + rows, lse + stats, delta + stats, 4,
          queryMask, keyMask, true, accK, accV, s, dp, d, scale);
      }
    }
    const out = <usize>r * rowBytes;
    scaleTo(scale, accK, dk + out, d);
    scaleTo(1, accV, dv + out, d);
  }
}
