import { checkOptions } from '@tessera/tensor-webgpu';
import { formatShapeOf, type Tensor } from './shapes.js';

/** Options shared by every attention entry point. */
export interface AttentionOptions {
  /** Multiplies q·k; default 1/√headDim. */
  scale?: number;
  /** Causal mask aligned bottom-right: query i sees keys ≤ i + Sk − Sq (FlashAttention ≥ 2.1). */
  causal?: boolean;
  /**
   * Sliding window: query i (at aligned position a = i + Sk − Sq) sees keys a − window < j;
   * without `causal` also j < a + window. 0 or undefined: no window.
   */
  window?: number;
  /** [batch, Sk] f32: 1 keeps a key, 0 masks it (padding). */
  keyPaddingMask?: Tensor;
}

/** Options of the attention entry points over whole sequences (`attention`, `naiveAttention`). */
export interface SequenceAttentionOptions extends AttentionOptions {
  /**
   * [batch, S] f32 document ids for sequence packing (self-attention, Sq = Sk = S): query i sees
   * key j only where both carry the same id, on top of the other masks — several examples packed
   * into one row never attend to each other (the varlen / `cu_seqlens` attention of
   * FlashAttention-2, and the block-diagonal mask of packing in TRL). Ids are non-negative
   * integers (at most 2²⁴ − 2, exact in f32); −1 masks the key like padding.
   */
  documentIds?: Tensor;
}

/** The keys of `AttentionOptions`, for `checkOptions`. */
export const ATTENTION_OPTION_KEYS: readonly (keyof AttentionOptions)[] = [
  'scale',
  'causal',
  'window',
  'keyPaddingMask',
];

/** The keys of `SequenceAttentionOptions`, for `checkOptions`. */
export const SEQUENCE_ATTENTION_OPTION_KEYS: readonly (keyof SequenceAttentionOptions)[] = [
  ...ATTENTION_OPTION_KEYS,
  'documentIds',
];

/** Validated dimensions of an attention call. */
export interface AttentionDims {
  batch: number;
  heads: number;
  kvHeads: number;
  sq: number;
  sk: number;
  headDim: number;
  scale: number;
  causal: boolean;
  window: number;
  hasMask: boolean;
  /**
   * Whether the mask holds document ids + 1 (from `documentIds`), negated on padded keys: then a
   * key needs a positive value equal to the query's own in absolute terms.
   */
  documents: boolean;
}

/**
 * Checks shapes and options, naming the argument and what was expected; `where` names the entry
 * point and `known` its option keys (unknown keys are errors). With `cacheLength`, k and v are a
 * KV cache's storage: its rows need not match q's batch, and `sk` is the longest row.
 */
export function attentionDims(
  where: string,
  known: readonly string[],
  q: Tensor,
  k: Tensor,
  v: Tensor,
  o: SequenceAttentionOptions,
  cacheLength?: number,
): AttentionDims {
  checkOptions(where, o, known);
  for (const [name, t] of [
    ['q', q],
    ['k', k],
    ['v', v],
  ] as const) {
    if (t.rank !== 4)
      throw new RangeError(
        `attention: ${name} must be [batch, heads, seq, headDim], got ${formatShapeOf(t)}`,
      );
    if (t.dtype !== 'f32' && t.dtype !== 'f16')
      throw new TypeError(`attention: ${name} must be f32 or f16, got ${t.dtype}`);
  }
  if (k.dtype !== q.dtype || v.dtype !== q.dtype)
    throw new TypeError(`attention: q, k, v dtypes differ (${q.dtype}, ${k.dtype}, ${v.dtype})`);
  const [batch, heads, sq, headDim] = q.shape as [number, number, number, number];
  const [kb, kvHeads, skFull, kd] = k.shape as [number, number, number, number];
  if ((cacheLength === undefined && kb !== batch) || kd !== headDim)
    throw new RangeError(
      `attention: k ${formatShapeOf(k)} does not match q ${formatShapeOf(q)} in batch or headDim`,
    );
  if (v.shape.join() !== k.shape.join())
    throw new RangeError(
      `attention: v ${formatShapeOf(v)} must have k's shape ${formatShapeOf(k)}`,
    );
  if (heads % kvHeads !== 0)
    throw new RangeError(`attention: kv heads (${kvHeads}) must divide query heads (${heads})`);
  if (headDim < 1 || headDim > 256)
    throw new RangeError(`attention: headDim must be 1 to 256, got ${headDim}`);
  if (o.causal !== undefined && typeof o.causal !== 'boolean')
    throw new TypeError(`attention: causal must be true or false, got ${JSON.stringify(o.causal)}`);
  const sk = cacheLength ?? skFull;
  const window = o.window ?? 0;
  if (!Number.isInteger(window) || window < 0)
    throw new RangeError(`attention: window must be a non-negative integer, got ${window}`);
  const mask = o.keyPaddingMask;
  if (
    mask &&
    (mask.rank !== 2 || mask.shape[0] !== batch || mask.shape[1]! < sk || mask.dtype !== 'f32')
  ) {
    throw new RangeError(
      `attention: keyPaddingMask must be f32 [${batch}, ${sk}], got ${formatShapeOf(mask)} ${mask.dtype}`,
    );
  }
  const docs = o.documentIds;
  if (docs) {
    if (sq !== sk)
      throw new RangeError(
        `attention: documentIds needs self-attention (Sq = Sk), got Sq ${sq} and Sk ${sk}`,
      );
    if (docs.rank !== 2 || docs.shape[0] !== batch || docs.shape[1] !== sk || docs.dtype !== 'f32')
      throw new RangeError(
        `attention: documentIds must be f32 [${batch}, ${sk}], got ${formatShapeOf(docs)} ${docs.dtype}`,
      );
  }
  const scale = o.scale ?? 1 / Math.sqrt(headDim);
  if (!(Number.isFinite(scale) && scale > 0))
    throw new RangeError(`attention: scale must be a positive number, got ${scale}`);
  return {
    batch,
    heads,
    kvHeads,
    sq,
    sk,
    headDim,
    scale,
    causal: o.causal ?? false,
    window,
    hasMask: mask !== undefined || docs !== undefined,
    documents: docs !== undefined,
  };
}

/**
 * WGSL `allowed(i, j, b)`: whether query row i may attend key j in batch b (P fields as above);
 * `allowedIn(i, j, b, sk)` the same for a row of `sk` keys (KV-cache rows at their own lengths);
 * `visible(i, j)` the causal and window part alone, without branches (`&`, `|` do not
 * short-circuit), for kernels that test a tile of rows at once.
 */
export const ALLOWED_WGSL = `fn visibleIn(i: u32, j: u32, sk: u32) -> bool {
  let a = i32(i) + i32(sk) - i32(P.sq);
  let jj = i32(j);
  let w = i32(P.window);
  return ((P.causal == 0u) | (jj <= a)) & ((w == 0) | ((jj > a - w) & ((P.causal == 1u) | (jj < a + w))));
}
fn visible(i: u32, j: u32) -> bool { return visibleIn(i, j, P.sk); }
fn allowedIn(i: u32, j: u32, b: u32, sk: u32) -> bool {
  return visibleIn(i, j, sk) && maskAllows(i32(i) + i32(sk) - i32(P.sq), j, b);
}
fn allowed(i: u32, j: u32, b: u32) -> bool { return allowedIn(i, j, b, P.sk); }
`;

/**
 * WGSL `keyRange(first, last)`: the keys [x, y) that query rows first..last can see, and
 * `queryRange(first, last)`: the query rows [x, y) that can see a key in first..last — so a
 * tile of rows skips the keys (or queries) the causal mask and the window hide from all of it.
 */
export const RANGE_WGSL = `fn keyRange(first: u32, last: u32) -> vec2<u32> {
  let shift = i32(P.sk) - i32(P.sq);
  let w = i32(P.window);
  var lo = 0;
  var hi = i32(P.sk);
  if (P.causal == 1u) { hi = i32(last) + shift + 1; }
  if (w > 0) {
    lo = i32(first) + shift - w + 1;
    if (P.causal == 0u) { hi = i32(last) + shift + w; }
  }
  return vec2<u32>(u32(clamp(lo, 0, i32(P.sk))), u32(clamp(hi, 0, i32(P.sk))));
}
fn queryRange(first: u32, last: u32) -> vec2<u32> {
  let shift = i32(P.sk) - i32(P.sq);
  let w = i32(P.window);
  var lo = 0;
  var hi = i32(P.sq);
  if (P.causal == 1u) { lo = i32(first) - shift; }
  if (w > 0) {
    hi = i32(last) + w - shift;
    if (P.causal == 0u) { lo = i32(first) - w + 1 - shift; }
  }
  return vec2<u32>(u32(clamp(lo, 0, i32(P.sq))), u32(clamp(hi, 0, i32(P.sq))));
}
`;

/** The CPU twin of `allowedIn` (`sk` defaults to the call's key length). */
export function allowedCpu(
  d: AttentionDims,
  mask: ArrayLike<number> | undefined,
  maskStride: number,
) {
  return (i: number, j: number, b: number, sk = d.sk): boolean => {
    const a = i + sk - d.sq;
    if (d.causal && j > a) return false;
    if (d.window > 0) {
      if (j <= a - d.window) return false;
      if (!d.causal && j >= a + d.window) return false;
    }
    if (!mask) return true;
    const m = mask[b * maskStride + j];
    if (!d.documents) return m !== 0;
    return m! > 0 && m === Math.abs(mask[b * maskStride + a]!);
  };
}
