/**
 * Philox4x32-10 (Salmon et al., 2011): a counter-based RNG, so element `i` of a random tensor
 * depends only on (seed, i) and both backends produce the same numbers.
 */
const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

function mulHiLo(a: number, b: number): [number, number] {
  const lo = Math.imul(a, b) >>> 0;
  // High 32 bits via 16-bit halves (exact in doubles).
  const aH = a >>> 16;
  const aL = a & 0xffff;
  const bH = b >>> 16;
  const bL = b & 0xffff;
  const mid1 = aH * bL;
  const mid2 = aL * bH;
  const carry = ((aL * bL) / 65536 + (mid1 & 0xffff) + (mid2 & 0xffff)) / 65536;
  const hi =
    (aH * bH + Math.floor(mid1 / 65536) + Math.floor(mid2 / 65536) + Math.floor(carry)) >>> 0;
  return [hi, lo];
}

/** Four 32-bit random words for counter `(c0, c1)` under key `(k0, k1)`. */
export function philox(
  c0: number,
  c1: number,
  k0: number,
  k1: number,
): [number, number, number, number] {
  let x0 = c0 >>> 0;
  let x1 = c1 >>> 0;
  let x2 = 0;
  let x3 = 0;
  let key0 = k0 >>> 0;
  let key1 = k1 >>> 0;
  for (let r = 0; r < 10; r++) {
    const [hi0, lo0] = mulHiLo(M0, x0);
    const [hi1, lo1] = mulHiLo(M1, x2);
    const n0 = (hi1 ^ x1 ^ key0) >>> 0;
    const n2 = (hi0 ^ x3 ^ key1) >>> 0;
    x0 = n0;
    x1 = lo1;
    x2 = n2;
    x3 = lo0;
    key0 = (key0 + W0) >>> 0;
    key1 = (key1 + W1) >>> 0;
  }
  return [x0, x1, x2, x3];
}

/** `n` uniform floats in [0, 1) (24-bit mantissa) from `seed`, starting at counter `offset`. */
export function uniforms(n: number, seed: number, offset = 0): Float32Array {
  const out = new Float32Array(n);
  const k0 = seed >>> 0;
  const k1 = Math.floor(seed / 2 ** 32) >>> 0;
  for (let i = 0; i < n; i += 4) {
    const words = philox(Math.floor((offset + i) / 4), 0, k0, k1);
    for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = (words[j]! >>> 8) / 16777216;
  }
  return out;
}

/** `n` standard normal floats (Box–Muller on pairs of uniforms). */
export function normals(n: number, seed: number): Float32Array {
  const u = uniforms(n + (n % 2), seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - u[i]!));
    const theta = 2 * Math.PI * u[i + 1]!;
    out[i] = r * Math.cos(theta);
    if (i + 1 < n) out[i + 1] = r * Math.sin(theta);
  }
  return out;
}

let globalSeed = 0x5eed;
let draws = 0;

/** Sets the seed that `rand`/`randn` use when none is given (like `torch.manual_seed`). */
export function manualSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0)
    throw new RangeError(`manualSeed: seed must be a non-negative integer, got ${seed}`);
  globalSeed = seed;
  draws = 0;
}

/** A fresh seed from the global one: each draw gets its own Philox key. */
export function nextSeed(): number {
  return (globalSeed * 1000003 + ++draws) % 2 ** 52;
}

/**
 * The seeded host-side generator (SplitMix32) every package draws from: batch offsets, sampling,
 * resampling, few-shot picks. The same seed gives the same stream on every machine. (Random
 * tensors use Philox above, so that both backends agree element by element.)
 */
export class Rng {
  private state: number;

  /** @throws RangeError - `seed` is not an integer */
  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new RangeError(`Rng: seed must be an integer, got ${seed}`);
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1) (32-bit resolution). */
  next(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    z = (z ^ (z >>> 16)) >>> 0;
    return z / 2 ** 32;
  }
}
