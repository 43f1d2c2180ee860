// Transcendental functions on f32x4 lanes, for the elementwise and row kernels. Each follows the
// formula of the CPU reference (src/ops/unary.ts) so the backends agree to f32 rounding, and keeps
// IEEE special values: NaN in, NaN out; exp(+inf) = +inf, exp(-inf) = 0.

const LOG2E: f32 = 1.44269504088896341;
// ln 2 split so that n·LN2_HI is exact for the n that occur (Cody & Waite; Cephes expf).
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
/**
 * exp's clamp: e^x overflows to +inf above ln(max float) = 88.72 (so any bound a little higher,
 * where n stays 128, gives +inf), and is below the smallest normal under EXP_LO.
 */
const EXP_HI: f32 = 88.8;
const EXP_LO: f32 = -87.33654475;
/** 1.5·2²³: adding it rounds a float of magnitude < 2²² to an integer, held in the low mantissa bits. */
const ROUNDER: f32 = 12582912;

/**
 * e^x per lane: Cephes `expf` (x = n·ln 2 + r, a degree-6 polynomial for e^r), about 1 ulp.
 * n is rounded by adding 1.5·2²³, which leaves it in the low mantissa bits, so 2^n is built with
 * one shift (cheaper on SIMD128 than rounding and converting); it is applied as 2^(n−1)·2 so
 * that n = 128 stays representable and the product overflows to +inf by itself above ln(max).
 * x is clamped with pseudo-min/max, one instruction each, which keep a NaN x (a NaN stays NaN
 * through the rest); below the smallest normal's logarithm the result is 0.
 */
@inline
export function expV(x: v128): v128 {
  const c = f32x4.pmax(f32x4.pmin(x, f32x4.splat(EXP_HI)), f32x4.splat(EXP_LO));
  const k = f32x4.add(f32x4.mul(c, f32x4.splat(LOG2E)), f32x4.splat(ROUNDER));
  const n = f32x4.sub(k, f32x4.splat(ROUNDER));
  let r = f32x4.sub(c, f32x4.mul(n, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  const er = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1));
  // The low bits of k hold n: 2^(n−1) has exponent bits n − 1 + 127.
  const half = i32x4.add(i32x4.shl(k, 23), i32x4.splat(126 << 23));
  const y = f32x4.mul(f32x4.mul(er, half), f32x4.splat(2));
  return v128.andnot(y, f32x4.lt(x, f32x4.splat(EXP_LO)));
}

/** 1 / (1 + e^-x). */
@inline
export function sigmoidV(x: v128): v128 {
  const one = f32x4.splat(1);
  return f32x4.div(one, f32x4.add(one, expV(f32x4.neg(x))));
}

/** tanh x = 1 − 2 / (e^2x + 1): ±1 at ±inf, NaN for NaN. */
@inline
export function tanhV(x: v128): v128 {
  const one = f32x4.splat(1);
  return f32x4.sub(one, f32x4.div(f32x4.splat(2), f32x4.add(expV(f32x4.add(x, x)), one)));
}

/** erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), the formula of the other backends. */
@inline
export function erfV(x: v128): v128 {
  const ax = f32x4.abs(x);
  const t = f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), f32x4.mul(f32x4.splat(0.3275911), ax)));
  let p = f32x4.splat(1.061405429);
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(-1.453152027));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(1.421413741));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(-0.284496736));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(0.254829592));
  const y = f32x4.sub(
    f32x4.splat(1),
    f32x4.mul(f32x4.mul(p, t), expV(f32x4.neg(f32x4.mul(x, x)))),
  );
  // The sign of x (a NaN x leaves y NaN).
  return v128.bitselect(f32x4.neg(y), y, f32x4.lt(x, f32x4.splat(0)));
}

/**
 * Natural logarithm per lane: Cephes `logf` (x = m·2^e with m in [√½, √2), a degree-8
 * polynomial in m − 1), about 1 ulp. log 0 = −inf, log of a negative number = NaN, log +inf = +inf.
 * Written out rather than `Mathf.log`, whose lookup table would be a data segment.
 */
@inline
export function logV(x: v128): v128 {
  // Subnormals are scaled into the normal range first.
  const tiny = f32x4.lt(x, f32x4.splat(1.17549435e-38));
  const scaled = v128.bitselect(f32x4.mul(x, f32x4.splat(8388608)), x, tiny);
  const bits = scaled;
  let e = f32x4.convert_i32x4_s(i32x4.sub(i32x4.shr_u(bits, 23), i32x4.splat(126)));
  e = v128.bitselect(f32x4.sub(e, f32x4.splat(23)), e, tiny);
  // m in [0.5, 1): the mantissa with the exponent of 0.5.
  let m = v128.or(v128.and(bits, i32x4.splat(0x807fffff)), i32x4.splat(0x3f000000));
  const low = f32x4.lt(m, f32x4.splat(0.707106781186547524));
  e = v128.bitselect(f32x4.sub(e, f32x4.splat(1)), e, low);
  m = f32x4.sub(v128.bitselect(f32x4.add(m, m), m, low), f32x4.splat(1));
  const z = f32x4.mul(m, m);
  let p = f32x4.splat(7.0376836292e-2);
  p = f32x4.add(f32x4.mul(p, m), f32x4.splat(-1.1514610310e-1));
  p = f32x4.add(f32x4.mul(p, m), f32x4.splat(1.1676998740e-1));
  p = f32x4.add(f32x4.mul(p, m), f32x4.splat(-1.2420140846e-1));
  p = f32x4.add(f32x4.mul(p, m), f32x4.splat(1.4249322787e-1));
  p = f32x4.add(f32x4.mul(p, m), f32x4.splat(-1.6668057665e-1));
  p = f32x4.add(f32x4.mul(p, m), f32x4.splat(2.0000714765e-1));
  p = f32x4.add(f32x4.mul(p, m), f32x4.splat(-2.4999993993e-1));
  p = f32x4.add(f32x4.mul(p, m), f32x4.splat(3.3333331174e-1));
  let y = f32x4.mul(f32x4.mul(p, m), z);
  y = f32x4.add(y, f32x4.mul(e, f32x4.splat(LN2_LO)));
  y = f32x4.sub(y, f32x4.mul(z, f32x4.splat(0.5)));
  y = f32x4.add(f32x4.add(m, y), f32x4.mul(e, f32x4.splat(LN2_HI)));
  // Special values: 0 → −inf, negative → NaN, +inf → +inf, NaN → NaN.
  y = v128.bitselect(f32x4.splat(-Infinity), y, f32x4.eq(x, f32x4.splat(0)));
  y = v128.bitselect(f32x4.splat(NaN), y, f32x4.lt(x, f32x4.splat(0)));
  y = v128.bitselect(f32x4.splat(Infinity), y, f32x4.eq(x, f32x4.splat(Infinity)));
  return v128.bitselect(x, y, f32x4.ne(x, x));
}
