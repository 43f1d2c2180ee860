// Elementwise ops over broadcast and strided f32 inputs into a packed output, on SIMD128.
//
// The host collapses the output's dimensions (dropping size-1 ones, merging runs every input
// walks contiguously) and writes a plan (see `room`). Each task takes a contiguous range of
// output elements and walks it in segments along the last dimension; a segment whose inputs all
// step by 1 (or stay on one broadcast element) runs four lanes at a time, any other by single
// lanes. Every op is written once, on f32x4: the
// single-lane path splats its operands and takes lane 0, so both paths round alike.

import { erfV, expV, logV, sigmoidV, tanhV } from './simd-math';

// Op codes: constants, so that inlining `unaryOp`/`binaryOp` into each exported kernel folds
// the choice away and each kernel is a plain loop.
const NEG = 0;
const ABS = 1;
const EXP = 2;
const LOG = 3;
const SQRT = 4;
const RSQRT = 5;
const TANH = 6;
const SIGMOID = 7;
const RELU = 8;
const GELU_ERF = 9;
const GELU_TANH = 10;
const SILU = 11;
const SQUARE = 12;
const SILU_GRAD = 13;
const GELU_ERF_GRAD = 14;
const GELU_TANH_GRAD = 15;
const COPY = 16;

const ADD = 0;
const SUB = 1;
const MUL = 2;
const DIV = 3;
const MAXIMUM = 4;
const MINIMUM = 5;
const EQ = 6;
const NE = 7;
const LT = 8;
const LE = 9;
const GT = 10;
const GE = 11;
const SWIGLU = 12;
const EQ_I32 = 13;
const NE_I32 = 14;
const LT_I32 = 15;
const GT_I32 = 16;

const SQRT_2_OVER_PI: f32 = 0.7978845608028654;
const INV_SQRT_2: f32 = 0.7071067811865476;
const INV_SQRT_2PI: f32 = 0.3989422804014327;

@inline
function unaryOp(op: i32, x: v128): v128 {
  const half = f32x4.splat(0.5);
  const one = f32x4.splat(1);
  if (op == NEG) return f32x4.neg(x);
  if (op == ABS) return f32x4.abs(x);
  if (op == EXP) return expV(x);
  if (op == LOG) return logV(x);
  if (op == SQRT) return f32x4.sqrt(x);
  if (op == RSQRT) return f32x4.div(one, f32x4.sqrt(x));
  if (op == TANH) return tanhV(x);
  if (op == SIGMOID) return sigmoidV(x);
  if (op == RELU) return f32x4.max(x, f32x4.splat(0));
  if (op == GELU_ERF)
    return f32x4.mul(f32x4.mul(half, x), f32x4.add(one, erfV(f32x4.mul(x, f32x4.splat(INV_SQRT_2)))));
  if (op == GELU_TANH) return f32x4.mul(f32x4.mul(half, x), f32x4.add(one, tanhV(geluInner(x))));
  if (op == SILU) return f32x4.mul(x, sigmoidV(x));
  if (op == SQUARE) return f32x4.mul(x, x);
  if (op == SILU_GRAD) {
    const s = sigmoidV(x);
    return f32x4.mul(s, f32x4.add(one, f32x4.mul(x, f32x4.sub(one, s))));
  }
  if (op == GELU_ERF_GRAD) {
    const cdf = f32x4.mul(half, f32x4.add(one, erfV(f32x4.mul(x, f32x4.splat(INV_SQRT_2)))));
    const pdf = f32x4.mul(expV(f32x4.mul(f32x4.splat(-0.5), f32x4.mul(x, x))), f32x4.splat(INV_SQRT_2PI));
    return f32x4.add(cdf, f32x4.mul(x, pdf));
  }
  if (op == GELU_TANH_GRAD) {
    const t = tanhV(geluInner(x));
    const dInner = f32x4.mul(
      f32x4.splat(SQRT_2_OVER_PI),
      f32x4.add(one, f32x4.mul(f32x4.splat(0.134145), f32x4.mul(x, x))),
    );
    const left = f32x4.mul(half, f32x4.add(one, t));
    const right = f32x4.mul(f32x4.mul(f32x4.mul(half, x), f32x4.sub(one, f32x4.mul(t, t))), dInner);
    return f32x4.add(left, right);
  }
  return x; // COPY
}

/** √(2/π)·(x + 0.044715·x³), the argument of GELU's tanh form. */
@inline
function geluInner(x: v128): v128 {
  const cube = f32x4.mul(f32x4.mul(x, x), x);
  return f32x4.mul(f32x4.splat(SQRT_2_OVER_PI), f32x4.add(x, f32x4.mul(f32x4.splat(0.044715), cube)));
}

/** A comparison's lanes as 1.0 (true) or 0.0; IEEE: false with a NaN operand, except `ne`. */
@inline
function mask(m: v128): v128 {
  return v128.and(m, f32x4.splat(1));
}

@inline
function binaryOp(op: i32, a: v128, b: v128): v128 {
  if (op == ADD) return f32x4.add(a, b);
  if (op == SUB) return f32x4.sub(a, b);
  if (op == MUL) return f32x4.mul(a, b);
  if (op == DIV) return f32x4.div(a, b);
  if (op == MAXIMUM) return f32x4.max(a, b);
  if (op == MINIMUM) return f32x4.min(a, b);
  if (op == EQ) return mask(f32x4.eq(a, b));
  if (op == NE) return mask(f32x4.ne(a, b));
  if (op == LT) return mask(f32x4.lt(a, b));
  if (op == LE) return mask(f32x4.le(a, b));
  if (op == GT) return mask(f32x4.gt(a, b));
  if (op == GE) return mask(f32x4.ge(a, b));
  if (op == EQ_I32) return mask(i32x4.eq(a, b));
  if (op == NE_I32) return mask(i32x4.ne(a, b));
  if (op == LT_I32) return mask(i32x4.lt_s(a, b));
  if (op == GT_I32) return mask(i32x4.gt_s(a, b));
  return f32x4.mul(f32x4.mul(a, sigmoidV(a)), b); // SWIGLU: silu(a)·b
}

/** `condition ? a : b`, a NaN condition counting as true (as `bool(nan)` in PyTorch). */
@inline
function whereOp(c: v128, a: v128, b: v128): v128 {
  return v128.bitselect(a, b, f32x4.ne(c, f32x4.splat(0)));
}

/** This thread's share [start, end) of n elements, in runs of 16 (whole cache lines of output). */
@inline
function share(thread: i32, threads: i32, n: i32): u64 {
  const chunk = (((n + threads - 1) / threads + 15) >> 4) << 4;
  const start = min(n, thread * chunk);
  const end = min(n, start + chunk);
  return (<u64>start << 32) | <u64>end;
}

/**
 * The plan at `plan`, as i32 words: rank, shape[rank], strides[rank] of each input, then 16
 * words of room per task. A task walks its range of output elements row by row (a row: the last
 * dimension). Its room holds the current row's coordinates (words 0..7) and each input's element
 * offset of that row (words 8..10), stepped like an odometer from one row to the next instead of
 * divided out again, so short rows (strided copies of narrow heads) stay cheap.
 */
@inline
function room(plan: usize, inputs: i32, task: i32): usize {
  const rank = load<i32>(plan);
  return plan + <usize>(1 + rank + inputs * rank + task * 16) * 4;
}

@inline
function size(plan: usize, d: i32): i32 {
  return load<i32>(plan + <usize>(1 + d) * 4);
}

@inline
function stride(plan: usize, k: i32, d: i32): i32 {
  const rank = load<i32>(plan);
  return load<i32>(plan + <usize>(1 + rank + k * rank + d) * 4);
}

/** Input k's element offset of the current row. */
@inline
function rowBase(ws: usize, k: i32): i32 {
  return load<i32>(ws + <usize>(8 + k) * 4);
}

/** Sets the room to the row holding element `idx`; returns `idx`'s position in its row. */
@inline
function seek(plan: usize, inputs: i32, ws: usize, idx: i32): i32 {
  const rank = load<i32>(plan);
  const inner = size(plan, rank - 1);
  let row = idx / inner;
  for (let k = 0; k < inputs; k++) store<i32>(ws + <usize>(8 + k) * 4, 0);
  for (let d = rank - 2; d >= 0; d--) {
    const c = row % size(plan, d);
    row = row / size(plan, d);
    store<i32>(ws + <usize>d * 4, c);
    for (let k = 0; k < inputs; k++) {
      const at = ws + <usize>(8 + k) * 4;
      store<i32>(at, load<i32>(at) + c * stride(plan, k, d));
    }
  }
  return idx % inner;
}

/** Steps the room to the next row: the last outer coordinate counts up and carries. */
@inline
function nextRow(plan: usize, inputs: i32, ws: usize): void {
  const rank = load<i32>(plan);
  for (let d = rank - 2; d >= 0; d--) {
    const c = load<i32>(ws + <usize>d * 4) + 1;
    const wraps = c == size(plan, d);
    store<i32>(ws + <usize>d * 4, wraps ? 0 : c);
    for (let k = 0; k < inputs; k++) {
      const at = ws + <usize>(8 + k) * 4;
      const step = stride(plan, k, d);
      store<i32>(at, load<i32>(at) + (wraps ? -step * (c - 1) : step));
    }
    if (!wraps) return;
  }
}

@inline
function innerStride(plan: usize, k: i32): i32 {
  return stride(plan, k, load<i32>(plan) - 1);
}

@inline
function unaryKernel(op: i32, thread: i32, threads: i32, plan: usize, n: i32, y: usize, x: usize): void {
  const range = share(thread, threads, n);
  let idx = <i32>(range >> 32);
  const end = <i32>range;
  const sx = innerStride(plan, 0);
  const inner = size(plan, load<i32>(plan) - 1);
  const ws = room(plan, 1, thread);
  let j = seek(plan, 1, ws, idx);
  while (idx < end) {
    const len = min(inner - j, end - idx);
    let px = x + <usize>(rowBase(ws, 0) + j * sx) * 4;
    let py = y + <usize>idx * 4;
    let i = 0;
    if (sx == 1) {
      for (; i + 4 <= len; i += 4) {
        v128.store(py, unaryOp(op, v128.load(px)));
        px += 16;
        py += 16;
      }
    }
    const step = <usize>sx * 4;
    for (; i < len; i++) {
      store<f32>(py, f32x4.extract_lane(unaryOp(op, f32x4.splat(load<f32>(px))), 0));
      px += step;
      py += 4;
    }
    idx += len;
    j += len;
    if (j == inner) {
      j = 0;
      nextRow(plan, 1, ws);
    }
  }
}

@inline
function binaryKernel(
  op: i32,
  thread: i32,
  threads: i32,
  plan: usize,
  n: i32,
  y: usize,
  a: usize,
  b: usize,
): void {
  const range = share(thread, threads, n);
  let idx = <i32>(range >> 32);
  const end = <i32>range;
  const sa = innerStride(plan, 0);
  const sb = innerStride(plan, 1);
  const inner = size(plan, load<i32>(plan) - 1);
  const ws = room(plan, 2, thread);
  let j = seek(plan, 2, ws, idx);
  // Single lanes are loaded as raw bits, so i32 comparisons see their integers.
  while (idx < end) {
    const len = min(inner - j, end - idx);
    let pa = a + <usize>(rowBase(ws, 0) + j * sa) * 4;
    let pb = b + <usize>(rowBase(ws, 1) + j * sb) * 4;
    let py = y + <usize>idx * 4;
    let i = 0;
    if (sa == 1 && sb == 1) {
      for (; i + 4 <= len; i += 4) {
        v128.store(py, binaryOp(op, v128.load(pa), v128.load(pb)));
        pa += 16;
        pb += 16;
        py += 16;
      }
    } else if (sa == 1 && sb == 0) {
      const vb = v128.load32_splat(pb);
      for (; i + 4 <= len; i += 4) {
        v128.store(py, binaryOp(op, v128.load(pa), vb));
        pa += 16;
        py += 16;
      }
    } else if (sa == 0 && sb == 1) {
      const va = v128.load32_splat(pa);
      for (; i + 4 <= len; i += 4) {
        v128.store(py, binaryOp(op, va, v128.load(pb)));
        pb += 16;
        py += 16;
      }
    }
    const stepA = <usize>sa * 4;
    const stepB = <usize>sb * 4;
    for (; i < len; i++) {
      const v = binaryOp(op, i32x4.splat(load<i32>(pa)), i32x4.splat(load<i32>(pb)));
      store<f32>(py, f32x4.extract_lane(v, 0));
      pa += stepA;
      pb += stepB;
      py += 4;
    }
    idx += len;
    j += len;
    if (j == inner) {
      j = 0;
      nextRow(plan, 2, ws);
    }
  }
}

export function where(
  thread: i32,
  threads: i32,
  plan: usize,
  n: i32,
  y: usize,
  c: usize,
  a: usize,
  b: usize,
): void {
  const range = share(thread, threads, n);
  let idx = <i32>(range >> 32);
  const end = <i32>range;
  const sc = innerStride(plan, 0);
  const sa = innerStride(plan, 1);
  const sb = innerStride(plan, 2);
  const inner = size(plan, load<i32>(plan) - 1);
  const ws = room(plan, 3, thread);
  let j = seek(plan, 3, ws, idx);
  while (idx < end) {
    const len = min(inner - j, end - idx);
    let pc = c + <usize>(rowBase(ws, 0) + j * sc) * 4;
    let pa = a + <usize>(rowBase(ws, 1) + j * sa) * 4;
    let pb = b + <usize>(rowBase(ws, 2) + j * sb) * 4;
    let py = y + <usize>idx * 4;
    let i = 0;
    if (sc == 1 && sa == 1 && sb == 1) {
      for (; i + 4 <= len; i += 4) {
        v128.store(py, whereOp(v128.load(pc), v128.load(pa), v128.load(pb)));
        pc += 16;
        pa += 16;
        pb += 16;
        py += 16;
      }
    }
    for (; i < len; i++) {
      const v = whereOp(f32x4.splat(load<f32>(pc)), f32x4.splat(load<f32>(pa)), f32x4.splat(load<f32>(pb)));
      store<f32>(py, f32x4.extract_lane(v, 0));
      pc += <usize>sc * 4;
      pa += <usize>sa * 4;
      pb += <usize>sb * 4;
      py += 4;
    }
    idx += len;
    j += len;
    if (j == inner) {
      j = 0;
      nextRow(plan, 3, ws);
    }
  }
}

// Each kernel: (thread, threads, plan, n, y, inputs...). Named for the op they run.
export function unary_neg(t: i32, ts: i32, plan: usize, n: i32, y: usize, x: usize): void { unaryKernel(NEG, t, ts, plan, n, y, x); }
export function unary_abs(t: i32, ts: i32, plan: usize, n: i32, y: usize, x: usize): void { unaryKernel(ABS, t, ts, plan, n, y, x); }
export function unary_exp(t: i32, ts: i32, plan: usize, n: i32, y: usize, x: usize): void { unaryKernel(EXP, t, ts, plan, n, y, x); }
export function unary_log(t: i32, ts: i32, plan: usize, n: i32, y: usize, x: usize): void { unaryKernel(LOG, t, ts, plan, n, y, x); }
export function unary_sqrt(t: i32, ts: i32, plan: usize, n: i32, y: usize, x: usize): void { unaryKernel(SQRT, t, ts, plan, n, y, x); }
export function unary_rsqrt(t: i32, ts: i32, plan: usize, n: i32, y: usize, x: usize): void { unaryKernel(RSQRT, t, ts, plan, n, y, x); }
export function unary_tanh(t: i32, ts: i32, plan: usize, n: i32, y: usize, x: usize): void { unaryKernel(TANH, t, ts, plan, n, y, x); }
export function unary_sigmoid(t: i32, ts: i32, plan: usize, n: i32, y: usize, x: usize): void { unaryKernel(SIGMOID, t, ts, plan, n, y, x); }
export function unary_relu(t: i32, ts: i32, plan: usize, n: i32, y: usize, x: usize): void { unaryKernel(RELU, t, ts, plan, n, y, x); }
export function unary_gelu_erf(t: i32, ts: i32, plan: usize, n: i32, y: usize, x: usize): void { unaryKernel(GELU_ERF, t, ts, plan, n, y, x); }
export function unary_gelu_tanh(t: i32, ts: i32, plan: usize, n: i32, y: usize, x: usize): void { unaryKernel(GELU_TANH, t, ts, plan, n, y, x); }
export function unary_silu(t: i32, ts: i32, plan: usize, n: i32, y: usize, x: usize): void { unaryKernel(SILU, t, ts, plan, n, y, x); }
export function unary_square(t: i32, ts: i32, plan: usize, n: i32, y: usize, x: usize): void { unaryKernel(SQUARE, t, ts, plan, n, y, x); }
export function unary_silu_grad(t: i32, ts: i32, plan: usize, n: i32, y: usize, x: usize): void { unaryKernel(SILU_GRAD, t, ts, plan, n, y, x); }
export function unary_gelu_erf_grad(t: i32, ts: i32, plan: usize, n: i32, y: usize, x: usize): void { unaryKernel(GELU_ERF_GRAD, t, ts, plan, n, y, x); }
export function unary_gelu_tanh_grad(t: i32, ts: i32, plan: usize, n: i32, y: usize, x: usize): void { unaryKernel(GELU_TANH_GRAD, t, ts, plan, n, y, x); }
/** A strided copy (the `contiguous` op); moves 4-byte elements of any dtype unchanged. */
export function copy(t: i32, ts: i32, plan: usize, n: i32, y: usize, x: usize): void { unaryKernel(COPY, t, ts, plan, n, y, x); }

export function binary_add(t: i32, ts: i32, plan: usize, n: i32, y: usize, a: usize, b: usize): void { binaryKernel(ADD, t, ts, plan, n, y, a, b); }
export function binary_sub(t: i32, ts: i32, plan: usize, n: i32, y: usize, a: usize, b: usize): void { binaryKernel(SUB, t, ts, plan, n, y, a, b); }
export function binary_mul(t: i32, ts: i32, plan: usize, n: i32, y: usize, a: usize, b: usize): void { binaryKernel(MUL, t, ts, plan, n, y, a, b); }
export function binary_div(t: i32, ts: i32, plan: usize, n: i32, y: usize, a: usize, b: usize): void { binaryKernel(DIV, t, ts, plan, n, y, a, b); }
export function binary_maximum(t: i32, ts: i32, plan: usize, n: i32, y: usize, a: usize, b: usize): void { binaryKernel(MAXIMUM, t, ts, plan, n, y, a, b); }
export function binary_minimum(t: i32, ts: i32, plan: usize, n: i32, y: usize, a: usize, b: usize): void { binaryKernel(MINIMUM, t, ts, plan, n, y, a, b); }
export function binary_eq(t: i32, ts: i32, plan: usize, n: i32, y: usize, a: usize, b: usize): void { binaryKernel(EQ, t, ts, plan, n, y, a, b); }
export function binary_ne(t: i32, ts: i32, plan: usize, n: i32, y: usize, a: usize, b: usize): void { binaryKernel(NE, t, ts, plan, n, y, a, b); }
export function binary_lt(t: i32, ts: i32, plan: usize, n: i32, y: usize, a: usize, b: usize): void { binaryKernel(LT, t, ts, plan, n, y, a, b); }
export function binary_le(t: i32, ts: i32, plan: usize, n: i32, y: usize, a: usize, b: usize): void { binaryKernel(LE, t, ts, plan, n, y, a, b); }
export function binary_gt(t: i32, ts: i32, plan: usize, n: i32, y: usize, a: usize, b: usize): void { binaryKernel(GT, t, ts, plan, n, y, a, b); }
export function binary_ge(t: i32, ts: i32, plan: usize, n: i32, y: usize, a: usize, b: usize): void { binaryKernel(GE, t, ts, plan, n, y, a, b); }
export function binary_swiglu(t: i32, ts: i32, plan: usize, n: i32, y: usize, a: usize, b: usize): void { binaryKernel(SWIGLU, t, ts, plan, n, y, a, b); }
/** Comparisons of i32 operands (ids against an ignore index, say), as f32 masks. */
export function binary_eq_i32(t: i32, ts: i32, plan: usize, n: i32, y: usize, a: usize, b: usize): void { binaryKernel(EQ_I32, t, ts, plan, n, y, a, b); }
export function binary_ne_i32(t: i32, ts: i32, plan: usize, n: i32, y: usize, a: usize, b: usize): void { binaryKernel(NE_I32, t, ts, plan, n, y, a, b); }
export function binary_lt_i32(t: i32, ts: i32, plan: usize, n: i32, y: usize, a: usize, b: usize): void { binaryKernel(LT_I32, t, ts, plan, n, y, a, b); }
export function binary_gt_i32(t: i32, ts: i32, plan: usize, n: i32, y: usize, a: usize, b: usize): void { binaryKernel(GT_I32, t, ts, plan, n, y, a, b); }
