import { isFloat, wgslType } from '../dtype.js';
import { checkOptions } from '../errors.js';
import { entry1d, grid1d, storageBindings } from '../kernel.js';
import { defineOp } from '../op.js';
import { nextSeed, uniforms } from '../rng.js';
import { sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { Uniforms } from '../uniforms.js';
import { contiguous } from './view.js';

/** Philox4x32-10 in WGSL, bit-identical to `rng.ts` (WGSL has no 32×32→64 multiply: 16-bit halves). */
export const PHILOX_WGSL = `
fn mulhilo(a: u32, b: u32) -> vec2<u32> {
  let al = a & 0xffffu; let ah = a >> 16u; let bl = b & 0xffffu; let bh = b >> 16u;
  let ll = al * bl; let hl = ah * bl; let lh = al * bh; let hh = ah * bh;
  let cross = (ll >> 16u) + (hl & 0xffffu) + lh;
  return vec2<u32>(hh + (hl >> 16u) + (cross >> 16u), (cross << 16u) | (ll & 0xffffu));
}
fn philox(counter: u32, k0: u32, k1: u32) -> vec4<u32> {
  var x = vec4<u32>(counter, 0u, 0u, 0u);
  var key = vec2<u32>(k0, k1);
  for (var r = 0u; r < 10u; r++) {
    let p0 = mulhilo(0xd2511f53u, x.x);
    let p1 = mulhilo(0xcd9e8d57u, x.z);
    x = vec4<u32>(p1.x ^ x.y ^ key.x, p1.y, p0.x ^ x.w ^ key.y, p0.y);
    key = key + vec2<u32>(0x9e3779b9u, 0xbb67ae85u);
  }
  return x;
}
fn uniform01(i: u32, k0: u32, k1: u32) -> f32 {
  let w = philox(i / 4u, k0, k1)[i % 4u];
  return f32(w >> 8u) / 16777216.0;
}
`;

interface Params {
  p: number;
  seed: number;
}

/** Zeroes each element with probability p (mask from Philox at (seed, index)) and scales the rest by 1/(1-p). */
const dropoutOp = defineOp<Params>({
  name: 'dropout',
  outputs: ([x]) => {
    if (!isFloat(x!.dtype))
      throw new TypeError(`dropout: expected a floating-point tensor, got ${x!.dtype}`);
    return [{ shape: x!.shape, dtype: x!.dtype }];
  },
  wgsl: ([x], _o, { p, seed }, info) => {
    const n = sizeOf(x!.shape);
    const u = new Uniforms()
      .u32('n', n)
      .f32('p', p)
      .f32('scale', 1 / (1 - p))
      .u32('k0', seed >>> 0)
      .u32('k1', Math.floor(seed / 2 ** 32) >>> 0);
    const t = wgslType(x!.dtype);
    return {
      key: `dropout:${x!.dtype}`,
      uniforms: u,
      workgroups: grid1d(n, info),
      code: () =>
        `${t === 'f16' ? 'enable f16;\n' : ''}${u.declaration(2)}${storageBindings([['x', t]], [['y', t]])}${PHILOX_WGSL}${entry1d(`  if (i >= P.n) { return; }
  let keep = uniform01(i, P.k0, P.k1) >= P.p;
  y[i] = select(${t}(0), ${t}(f32(x[i]) * P.scale), keep);`)}`,
    };
  },
  cpu: ([x], [y], { p, seed }) => {
    const u = uniforms(x!.data.length, seed);
    const scale = 1 / (1 - p);
    for (let i = 0; i < u.length; i++) y!.data[i] = u[i]! >= p ? x!.data[i]! * scale : 0;
  },
  // Dropout is linear in x with a fixed mask: the gradient is dropout of g with the same seed.
  backward: ([g], { params }) => [maskLike(contiguous(g!), params)],
});

function maskLike(g: Tensor, params: Params): Tensor {
  return dropoutOp([g], params)[0]!;
}

export interface DropoutOptions {
  /** Skip dropout (identity) when false, e.g. in evaluation mode. Default true. */
  training?: boolean;
  /** Philox key for the mask; by default drawn from the global seed. */
  seed?: number;
}

/** Inverted dropout with probability `p`; the same seed gives the same mask on every backend. */
export function dropout(x: Tensor, p: number, options: DropoutOptions = {}): Tensor {
  checkOptions('dropout', options, ['training', 'seed']);
  if (!(p >= 0 && p < 1)) throw new RangeError(`dropout: p must be in [0, 1), got ${p}`);
  if (options.training === false || p === 0) return contiguous(x);
  return dropoutOp([x], { p, seed: options.seed ?? nextSeed() })[0]!;
}
