// Row kernels on SIMD128: reductions of strided rows, softmax and log-softmax, LayerNorm and
// RMSNorm forward and backward, cross-entropy forward and backward, and SwiGLU's backward.
// Each thread takes a contiguous run of rows; a row is read four lanes at a time, with f32
// accumulation in four partial sums (so sums round a little differently from the sequential
// CPU reference, well inside the tests' tolerances). Formulas follow src/ops/*.ts.

import { expV, logV } from './simd-math';

/** Rows [start, end) of this thread, in runs of `align` rows. */
@inline
function rowShare(thread: i32, threads: i32, rows: i32, align: i32): u64 {
  const chunk = (((rows + threads - 1) / threads + align - 1) / align) * align;
  const start = min(rows, thread * chunk);
  return (<u64>start << 32) | <u64>min(rows, start + chunk);
}

@inline
function startOf(range: u64): i32 {
  return <i32>(range >> 32);
}

@inline
function endOf(range: u64): i32 {
  return <i32>range;
}

const SUM = 0;
const MAX = 1;
const MIN = 2;
const SUMSQ = 3;

@inline
function identity(kind: i32): f32 {
  if (kind == MAX) return -Infinity;
  if (kind == MIN) return Infinity;
  return 0;
}

/** Folds lanes `v` into the partial result `acc` (max and min propagate NaN, as wasm's do). */
@inline
function fold(kind: i32, acc: v128, v: v128): v128 {
  if (kind == MAX) return f32x4.max(acc, v);
  if (kind == MIN) return f32x4.min(acc, v);
  if (kind == SUMSQ) return f32x4.add(acc, f32x4.mul(v, v));
  return f32x4.add(acc, v);
}

/** Merges two partial results. */
@inline
function merge(kind: i32, a: f32, b: f32): f32 {
  const v = fold(kind == SUMSQ ? SUM : kind, f32x4.splat(a), f32x4.splat(b));
  return f32x4.extract_lane(v, 0);
}

@inline
function lanes(kind: i32, v: v128): f32 {
  return merge(
    kind,
    merge(kind, f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)),
    merge(kind, f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)),
  );
}

/**
 * y[r] = the reduction of x[r·rs + c·cs] over c < cols, for r < rows. Unit column stride reads
 * each row four lanes at a time; unit row stride (a reduction over leading axes) reads four rows
 * at a time down their columns; anything else one element at a time.
 */
@inline
function reduceKernel(
  kind: i32,
  thread: i32,
  threads: i32,
  x: usize,
  rows: i32,
  cols: i32,
  rs: i32,
  cs: i32,
  y: usize,
): void {
  const range = rowShare(thread, threads, rows, 4);
  const start = startOf(range);
  const end = endOf(range);
  let r = start;
  if (rs == 1 && cs != 1) {
    for (; r + 4 <= end; r += 4) {
      let acc = f32x4.splat(identity(kind));
      let p = x + <usize>r * 4;
      for (let c = 0; c < cols; c++) {
        acc = fold(kind, acc, v128.load(p));
        p += <usize>cs * 4;
      }
      v128.store(y + <usize>r * 4, acc);
    }
  }
  for (; r < end; r++) {
    let p = x + <usize>(r * rs) * 4;
    let c = 0;
    let acc = f32x4.splat(identity(kind));
    if (cs == 1) {
      // Four partial results in flight: each fold waits on the last only every fourth step.
      let acc1 = acc;
      let acc2 = acc;
      let acc3 = acc;
      for (; c + 16 <= cols; c += 16) {
        acc = fold(kind, acc, v128.load(p));
        acc1 = fold(kind, acc1, v128.load(p, 16));
        acc2 = fold(kind, acc2, v128.load(p, 32));
        acc3 = fold(kind, acc3, v128.load(p, 48));
        p += 64;
      }
      acc = fold(kind == SUMSQ ? SUM : kind, fold(kind == SUMSQ ? SUM : kind, acc, acc1), fold(kind == SUMSQ ? SUM : kind, acc2, acc3));
      for (; c + 4 <= cols; c += 4) {
        acc = fold(kind, acc, v128.load(p));
        p += 16;
      }
    }
    let total = lanes(kind, acc);
    for (; c < cols; c++) {
      total = f32x4.extract_lane(fold(kind, f32x4.splat(total), f32x4.splat(load<f32>(p))), 0);
      p += <usize>cs * 4;
    }
    store<f32>(y + <usize>r * 4, total);
  }
}

export function reduce_sum(t: i32, ts: i32, x: usize, rows: i32, cols: i32, rs: i32, cs: i32, y: usize): void { reduceKernel(SUM, t, ts, x, rows, cols, rs, cs, y); }
export function reduce_max(t: i32, ts: i32, x: usize, rows: i32, cols: i32, rs: i32, cs: i32, y: usize): void { reduceKernel(MAX, t, ts, x, rows, cols, rs, cs, y); }
export function reduce_min(t: i32, ts: i32, x: usize, rows: i32, cols: i32, rs: i32, cs: i32, y: usize): void { reduceKernel(MIN, t, ts, x, rows, cols, rs, cs, y); }
export function reduce_sumsq(t: i32, ts: i32, x: usize, rows: i32, cols: i32, rs: i32, cs: i32, y: usize): void { reduceKernel(SUMSQ, t, ts, x, rows, cols, rs, cs, y); }

/**
 * The max of a packed row, for the shift of a softmax or a log-sum-exp. Pseudo-max (one machine
 * instruction, where wasm's NaN-propagating max takes several) is enough there: a NaN in the row
 * makes its sum of exponentials NaN whatever the shift.
 */
@inline
function rowMax(p: usize, cols: i32): f32 {
  let a0 = f32x4.splat(-Infinity);
  let a1 = a0;
  let a2 = a0;
  let a3 = a0;
  let c = 0;
  for (; c + 16 <= cols; c += 16) {
    const at = p + <usize>c * 4;
    a0 = f32x4.pmax(a0, v128.load(at));
    a1 = f32x4.pmax(a1, v128.load(at, 16));
    a2 = f32x4.pmax(a2, v128.load(at, 32));
    a3 = f32x4.pmax(a3, v128.load(at, 48));
  }
  for (; c + 4 <= cols; c += 4) a0 = f32x4.pmax(a0, v128.load(p + <usize>c * 4));
  let m = lanes(MAX, f32x4.pmax(f32x4.pmax(a0, a1), f32x4.pmax(a2, a3)));
  for (; c < cols; c++) m = max(m, load<f32>(p + <usize>c * 4));
  return m;
}

/** Σ exp(x − m) over a packed row, writing each exp to `e` when `e` is not 0. */
@inline
function rowSumExp(p: usize, cols: i32, m: f32, e: usize): f32 {
  const vm = f32x4.splat(m);
  let acc = f32x4.splat(0);
  let c = 0;
  for (; c + 4 <= cols; c += 4) {
    const v = expV(f32x4.sub(v128.load(p + <usize>c * 4), vm));
    if (e != 0) v128.store(e + <usize>c * 4, v);
    acc = f32x4.add(acc, v);
  }
  let s = lanes(SUM, acc);
  for (; c < cols; c++) {
    const v = f32x4.extract_lane(expV(f32x4.splat(load<f32>(p + <usize>c * 4) - m)), 0);
    if (e != 0) store<f32>(e + <usize>c * 4, v);
    s += v;
  }
  return s;
}

/** Σ x over a packed row. */
@inline
function rowSum(p: usize, cols: i32): f32 {
  let acc = f32x4.splat(0);
  let c = 0;
  for (; c + 4 <= cols; c += 4) acc = f32x4.add(acc, v128.load(p + <usize>c * 4));
  let s = lanes(SUM, acc);
  for (; c < cols; c++) s += load<f32>(p + <usize>c * 4);
  return s;
}

@inline
function scalarLog(x: f32): f32 {
  return f32x4.extract_lane(logV(f32x4.splat(x)), 0);
}

/** Softmax (`logarithm` 0) or log-softmax (1) of each packed row of x[rows, cols] into y. */
export function softmax_rows(
  thread: i32,
  threads: i32,
  x: usize,
  rows: i32,
  cols: i32,
  y: usize,
  logarithm: i32,
): void {
  const range = rowShare(thread, threads, rows, 1);
  for (let r = startOf(range); r < endOf(range); r++) {
    const px = x + <usize>r * <usize>cols * 4;
    const py = y + <usize>r * <usize>cols * 4;
    const m = rowMax(px, cols);
    if (logarithm) {
      const shift = f32x4.splat(m + scalarLog(rowSumExp(px, cols, m, 0)));
      let c = 0;
      for (; c + 4 <= cols; c += 4)
        v128.store(py + <usize>c * 4, f32x4.sub(v128.load(px + <usize>c * 4), shift));
      for (; c < cols; c++)
        store<f32>(py + <usize>c * 4, load<f32>(px + <usize>c * 4) - f32x4.extract_lane(shift, 0));
    } else {
      const total = f32x4.splat(rowSumExp(px, cols, m, py));
      let c = 0;
      for (; c + 4 <= cols; c += 4)
        v128.store(py + <usize>c * 4, f32x4.div(v128.load(py + <usize>c * 4), total));
      for (; c < cols; c++)
        store<f32>(py + <usize>c * 4, load<f32>(py + <usize>c * 4) / f32x4.extract_lane(total, 0));
    }
  }
}

/**
 * LayerNorm (`center` 1) or RMSNorm (0) of each packed row: y = (x − mean)·rstd·w + b, with
 * rstd = 1/√(Σ(x − mean)²/cols + eps) from two passes; w and b are optional (address 0). Also
 * writes each row's mean (0 for RMSNorm) and rstd.
 */
export function norm_rows(
  thread: i32,
  threads: i32,
  x: usize,
  w: usize,
  b: usize,
  rows: i32,
  cols: i32,
  eps: f32,
  center: i32,
  y: usize,
  means: usize,
  rstds: usize,
): void {
  const range = rowShare(thread, threads, rows, 1);
  const n = <f32>cols;
  for (let r = startOf(range); r < endOf(range); r++) {
    const px = x + <usize>r * <usize>cols * 4;
    const py = y + <usize>r * <usize>cols * 4;
    const mean: f32 = center ? rowSum(px, cols) / n : 0;
    const vm = f32x4.splat(mean);
    let acc = f32x4.splat(0);
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const d = f32x4.sub(v128.load(px + <usize>c * 4), vm);
      acc = f32x4.add(acc, f32x4.mul(d, d));
    }
    let sq = lanes(SUM, acc);
    for (; c < cols; c++) {
      const d = load<f32>(px + <usize>c * 4) - mean;
      sq += d * d;
    }
    const rstd: f32 = 1 / Mathf.sqrt(sq / n + eps);
    store<f32>(means + <usize>r * 4, mean);
    store<f32>(rstds + <usize>r * 4, rstd);
    const vr = f32x4.splat(rstd);
    c = 0;
    for (; c + 4 <= cols; c += 4) {
      const at = <usize>c * 4;
      let v = f32x4.mul(f32x4.sub(v128.load(px + at), vm), vr);
      if (w != 0) v = f32x4.mul(v, v128.load(w + at));
      if (b != 0) v = f32x4.add(v, v128.load(b + at));
      v128.store(py + at, v);
    }
    for (; c < cols; c++) {
      const at = <usize>c * 4;
      let v = (load<f32>(px + at) - mean) * rstd;
      if (w != 0) v *= load<f32>(w + at);
      if (b != 0) v += load<f32>(b + at);
      store<f32>(py + at, v);
    }
  }
}

/**
 * The norms' backward: dx = rstd·(gw − mean(gw) − x̂·mean(gw·x̂)) with gw = g·w (w optional) and
 * x̂ = (x − mean)·rstd; without the mean(gw) term for RMSNorm (`center` 0). With a weight, also
 * gxhat = g·x̂, whose column sums are the weight's gradient.
 */
export function norm_backward_rows(
  thread: i32,
  threads: i32,
  x: usize,
  w: usize,
  g: usize,
  means: usize,
  rstds: usize,
  rows: i32,
  cols: i32,
  center: i32,
  dx: usize,
  gxhat: usize,
): void {
  const range = rowShare(thread, threads, rows, 1);
  const n = <f32>cols;
  for (let r = startOf(range); r < endOf(range); r++) {
    const row = <usize>r * <usize>cols * 4;
    const mean = load<f32>(means + <usize>r * 4);
    const rstd = load<f32>(rstds + <usize>r * 4);
    const vm = f32x4.splat(mean);
    const vr = f32x4.splat(rstd);
    let a = f32x4.splat(0);
    let bs = f32x4.splat(0);
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const at = <usize>c * 4;
      let gw = v128.load(g + row + at);
      if (w != 0) gw = f32x4.mul(gw, v128.load(w + at));
      const xhat = f32x4.mul(f32x4.sub(v128.load(x + row + at), vm), vr);
      a = f32x4.add(a, gw);
      bs = f32x4.add(bs, f32x4.mul(gw, xhat));
    }
    let sumGw = lanes(SUM, a);
    let sumGwX = lanes(SUM, bs);
    for (; c < cols; c++) {
      const at = <usize>c * 4;
      const gw = load<f32>(g + row + at) * (w != 0 ? load<f32>(w + at) : 1);
      sumGw += gw;
      sumGwX += gw * (load<f32>(x + row + at) - mean) * rstd;
    }
    const meanGw = f32x4.splat(center ? sumGw / n : 0);
    const meanGwX = f32x4.splat(sumGwX / n);
    c = 0;
    for (; c + 4 <= cols; c += 4) {
      const at = <usize>c * 4;
      const gv = v128.load(g + row + at);
      const gw = w != 0 ? f32x4.mul(gv, v128.load(w + at)) : gv;
      const xhat = f32x4.mul(f32x4.sub(v128.load(x + row + at), vm), vr);
      v128.store(dx + row + at, f32x4.mul(vr, f32x4.sub(f32x4.sub(gw, meanGw), f32x4.mul(xhat, meanGwX))));
      if (gxhat != 0) v128.store(gxhat + row + at, f32x4.mul(gv, xhat));
    }
    for (; c < cols; c++) {
      const at = <usize>c * 4;
      const gv = load<f32>(g + row + at);
      const gw = gv * (w != 0 ? load<f32>(w + at) : 1);
      const xhat = (load<f32>(x + row + at) - mean) * rstd;
      store<f32>(
        dx + row + at,
        rstd * (gw - f32x4.extract_lane(meanGw, 0) - xhat * f32x4.extract_lane(meanGwX, 0)),
      );
      if (gxhat != 0) store<f32>(gxhat + row + at, gv * xhat);
    }
  }
}

/** Keeps the smallest row whose target failed its check in the word at `failed` (a min by CAS). */
@inline
function reportRow(failed: usize, r: i32): void {
  let old = atomic.load<i32>(failed);
  while (r < old) {
    const seen = atomic.cmpxchg<i32>(failed, old, r);
    if (seen == old) return;
    old = seen;
  }
}

/**
 * Per-row cross-entropy of logits x[rows, cols] against i32 targets: (1 − ε)(lse − x[t]) +
 * ε(lse − mean(x)), 0 for an ignored row. A target outside [0, cols) makes the row NaN and is
 * reported through `failed` (the host raises the CPU reference's error).
 */
export function cross_entropy_rows(
  thread: i32,
  threads: i32,
  x: usize,
  targets: usize,
  rows: i32,
  cols: i32,
  ignore: i32,
  eps: f32,
  loss: usize,
  failed: usize,
): void {
  const range = rowShare(thread, threads, rows, 1);
  for (let r = startOf(range); r < endOf(range); r++) {
    const px = x + <usize>r * <usize>cols * 4;
    const t = load<i32>(targets + <usize>r * 4);
    let value: f32 = 0;
    if (t != ignore) {
      if (t < 0 || t >= cols) {
        reportRow(failed, r);
        value = NaN;
      } else {
        const m = rowMax(px, cols);
        const lse = m + scalarLog(rowSumExp(px, cols, m, 0));
        const mean = rowSum(px, cols) / <f32>cols;
        value = (1 - eps) * (lse - load<f32>(px + <usize>t * 4)) + eps * (lse - mean);
      }
    }
    store<f32>(loss + <usize>r * 4, value);
  }
}

/** d loss_r / d x = g_r·(softmax(x) − (1 − ε)·onehot(t) − ε/cols), zero for ignored rows. */
export function cross_entropy_backward_rows(
  thread: i32,
  threads: i32,
  x: usize,
  targets: usize,
  g: usize,
  rows: i32,
  cols: i32,
  ignore: i32,
  eps: f32,
  dx: usize,
): void {
  const range = rowShare(thread, threads, rows, 1);
  const spread = eps / <f32>cols;
  for (let r = startOf(range); r < endOf(range); r++) {
    const px = x + <usize>r * <usize>cols * 4;
    const pd = dx + <usize>r * <usize>cols * 4;
    const t = load<i32>(targets + <usize>r * 4);
    const scale: f32 = t == ignore ? 0 : load<f32>(g + <usize>r * 4);
    const m = rowMax(px, cols);
    const lse = f32x4.splat(m + scalarLog(rowSumExp(px, cols, m, 0)));
    const vs = f32x4.splat(scale);
    const vspread = f32x4.splat(spread);
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const p = expV(f32x4.sub(v128.load(px + <usize>c * 4), lse));
      v128.store(pd + <usize>c * 4, f32x4.mul(vs, f32x4.sub(p, vspread)));
    }
    for (; c < cols; c++) {
      const p = f32x4.extract_lane(expV(f32x4.splat(load<f32>(px + <usize>c * 4) - f32x4.extract_lane(lse, 0))), 0);
      store<f32>(pd + <usize>c * 4, scale * (p - spread));
    }
    // The target's own term: subtract (1 − ε) there.
    if (t >= 0 && t < cols) {
      const at = pd + <usize>t * 4;
      const p = f32x4.extract_lane(expV(f32x4.splat(load<f32>(px + <usize>t * 4) - f32x4.extract_lane(lse, 0))), 0);
      store<f32>(at, scale * (p - (1 - eps) - spread));
    }
  }
}

/** SwiGLU's backward over packed tensors: d gate = g·up·silu′(gate), d up = g·silu(gate). */
export function swiglu_backward(
  thread: i32,
  threads: i32,
  gate: usize,
  up: usize,
  gy: usize,
  n: i32,
  dgate: usize,
  dup: usize,
): void {
  const range = rowShare(thread, threads, n, 16);
  const one = f32x4.splat(1);
  let i = startOf(range);
  const end = endOf(range);
  for (; i < end; i += 4) {
    const at = <usize>i * 4;
    // The last group may be short: it is computed in full lanes over a copy, then stored by lane.
    const full = i + 4 <= end;
    const x = full ? v128.load(gate + at) : lanesOf(gate + at, end - i);
    const u = full ? v128.load(up + at) : lanesOf(up + at, end - i);
    const g = full ? v128.load(gy + at) : lanesOf(gy + at, end - i);
    const s = f32x4.div(one, f32x4.add(one, expV(f32x4.neg(x))));
    const dg = f32x4.mul(f32x4.mul(f32x4.mul(g, u), s), f32x4.add(one, f32x4.mul(x, f32x4.sub(one, s))));
    const du = f32x4.mul(f32x4.mul(g, x), s);
    if (full) {
      v128.store(dgate + at, dg);
      v128.store(dup + at, du);
    } else {
      storeLanes(dgate + at, dg, end - i);
      storeLanes(dup + at, du, end - i);
    }
  }
}

/** The first `count` (< 4) floats at p as lanes, the rest zero. */
@inline
function lanesOf(p: usize, count: i32): v128 {
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (count > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (count > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

@inline
function storeLanes(p: usize, v: v128, count: i32): void {
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (count > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (count > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

/**
 * Embedding rows: y[r, :] = x[index[r·is], :] for r < rows, x packed [vocab, cols]. An index
 * outside [0, vocab) writes zeros and is reported through `failed` (the smallest such row).
 */
export function gather_rows(
  thread: i32,
  threads: i32,
  x: usize,
  index: usize,
  indexStride: i32,
  rows: i32,
  cols: i32,
  vocab: i32,
  y: usize,
  failed: usize,
): void {
  const range = rowShare(thread, threads, rows, 1);
  const bytes = <usize>cols * 4;
  for (let r = startOf(range); r < endOf(range); r++) {
    const at = load<i32>(index + <usize>(r * indexStride) * 4);
    const to = y + <usize>r * bytes;
    if (at < 0 || at >= vocab) {
      reportRow(failed, r);
      memory.fill(to, 0, bytes);
    } else memory.copy(to, x + <usize>at * bytes, bytes);
  }
}

/**
 * The adjoint of `gather_rows`: y[v, :] = Σ src[r, :] over rows r whose index is v, y packed
 * [vocab, cols]. Each task owns a run of y's rows and scans every index, so no two tasks add to
 * one row; the sums go in row order, as the CPU reference adds them. Out-of-range indices are
 * reported as `gather_rows` does.
 */
export function scatter_add_rows(
  thread: i32,
  threads: i32,
  index: usize,
  indexStride: i32,
  src: usize,
  rows: i32,
  cols: i32,
  vocab: i32,
  y: usize,
  failed: usize,
): void {
  const range = rowShare(thread, threads, vocab, 1);
  const lo = startOf(range);
  const hi = endOf(range);
  const bytes = <usize>cols * 4;
  if (lo < hi) memory.fill(y + <usize>lo * bytes, 0, <usize>(hi - lo) * bytes);
  for (let r = 0; r < rows; r++) {
    const at = load<i32>(index + <usize>(r * indexStride) * 4);
    if (at < 0 || at >= vocab) {
      if (thread == 0) reportRow(failed, r);
      continue;
    }
    if (at < lo || at >= hi) continue;
    const to = y + <usize>at * bytes;
    const from = src + <usize>r * bytes;
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const o = <usize>c * 4;
      v128.store(to + o, f32x4.add(v128.load(to + o), v128.load(from + o)));
    }
    for (; c < cols; c++) {
      const o = <usize>c * 4;
      store<f32>(to + o, load<f32>(to + o) + load<f32>(from + o));
    }
  }
}
