import {
  add,
  cast,
  contiguous,
  type DeviceInfo,
  defineOp,
  isGradEnabled,
  mul,
  sub,
  sum,
  type Tensor,
  tidy,
} from '@tessera/tensor-webgpu';
import { flashDkvOp, flashDqOp } from './flash-backward.js';
import {
  chooseKernel,
  type FlashKernel,
  type FlashParams,
  flashForwardOp,
  rowsPerWorkgroup,
} from './flash-forward.js';
import { autoSplits, checkSplits } from './key-split.js';
import { naiveAttention } from './naive.js';
import {
  attentionDims,
  SEQUENCE_ATTENTION_OPTION_KEYS,
  type SequenceAttentionOptions,
} from './options.js';

// The forward op with its backward rule: recomputation through the dQ and dK/dV kernels.
const attentionOp = defineOp<FlashParams>({
  ...flashForwardOp.definition,
  backward: ([gO], { inputs, outputs: [o, lse], params }) => {
    const [q, k, v, mask] = inputs;
    const extra = mask ? [mask] : [];
    const g = contiguous(gO!);
    const [dq, delta] = flashDqOp([q!, k!, v!, o!, g, lse!, ...extra], params);
    const splits = params.dkvSplits ?? 1;
    const grads = flashDkvOp([q!, k!, v!, g, lse!, delta!, ...extra], { ...params, splits });
    // Split over queries: each split's partial f32 gradients, summed here.
    const [dk, dv] =
      splits > 1 ? grads.map((t) => castTo(sumSplits(t), k!.dtype)) : (grads as Tensor[]);
    return [dq!, dk!, dv!, ...(mask ? [null] : [])];
  },
});

/** Sums the split axis (0) of partial gradients, freeing them. */
function sumSplits(parts: Tensor): Tensor {
  const total = sum(parts, 0);
  parts.dispose();
  return total;
}

/** `t` as `dtype`, freeing `t` where a cast made a copy. */
function castTo(t: Tensor, dtype: Tensor['dtype']): Tensor {
  if (t.dtype === dtype) return t;
  const out = cast(t, dtype);
  t.dispose();
  return out;
}

/** Options of `attention()`: the masks and scale of every entry point, then the kernel's. */
export interface FlashOptions extends SequenceAttentionOptions {
  /**
   * WebGPU kernel (forward and backward): `auto` (default) picks `tiled` on GPUs and `lanes` on
   * CPU WebGPU implementations with subgroups where the headDim fits, else `row` — or the naive
   * path (`naiveAttention`) where it measured faster than `row` (`naiveIsFaster`); see
   * `FlashKernel`. A kernel named here always runs.
   */
  kernel?: FlashKernel | 'auto';
  /**
   * Key splits of the forward pass on WebGPU (split-K, flash-decoding style; `key-split.ts`):
   * `auto` (default) splits on a GPU where the call has too few query blocks to fill it (fewer
   * than 256 workgroups), keeping at least 256 keys a split, and never on a CPU adapter (whose
   * workgroups run one after another); an integer 1–64 forces that many (1: no split) and a
   * flash kernel. Results are the same either way up to rounding; the CPU and wasm backends
   * never split.
   */
  keySplits?: number | 'auto';
  /**
   * Query splits of the dK/dV backward pass on WebGPU (its workgroups own key rows, so few keys
   * against many queries idle the adapter): `auto` (default) splits on a GPU where that pass has
   * fewer than 256 workgroups, keeping at least 256 queries a split, never on a CPU adapter; an
   * integer 1–64 forces that many. Each split writes f32 partial gradients [splits, batch,
   * kvHeads, Sk, headDim], summed afterwards. Only calls that record a backward pass (an input
   * requires grad) use it. The CPU and wasm backends never split.
   */
  dkvSplits?: number | 'auto';
}

/** `attention()`'s `returnLse` option. */
export interface ReturnLseOption {
  /** Also return the per-row log-sum-exp (default false): `attention()` then gives `AttentionWithLse`. */
  returnLse?: boolean;
}

/** `attention()`'s result with `returnLse: true`. */
export interface AttentionWithLse {
  /** The attention output [batch, heads, Sq, headDim], q's dtype. */
  out: Tensor;
  /** log Σⱼ exp(scale·q·kⱼ) over the keys each row sees, [batch, heads, Sq] f32; −∞ for a row that sees none. */
  lse: Tensor;
}

const KERNELS = ['auto', 'tiled', 'row', 'lanes'];

/**
 * Exact attention softmax(q·kᵀ·scale + mask)·v, forward and backward, by the flash kernels
 * (the scores never materialised) or, where `kernel: 'auto'` finds it faster on a CPU adapter,
 * the naive path. q: [batch, heads, Sq, headDim]; k, v: [batch, kvHeads, Sk, headDim] with
 * kvHeads dividing heads (MHA, GQA, MQA — K/V are indexed per group, never copied). Returns the
 * output [batch, heads, Sq, headDim]; with `returnLse`, also the per-row log-sum-exp
 * [batch, heads, Sq] f32 (always from a flash kernel). With `documentIds`, packed examples attend
 * only within themselves (forward and backward). Throws on bad shapes and options, naming them,
 * and where forced `keySplits` would need partial outputs over the storage binding limit.
 */
export function attention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options: FlashOptions & { returnLse: true },
): AttentionWithLse;
export function attention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options?: FlashOptions & { returnLse?: false },
): Tensor;
export function attention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options: FlashOptions & ReturnLseOption,
): Tensor | AttentionWithLse;
export function attention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options: FlashOptions & ReturnLseOption = {},
): Tensor | AttentionWithLse {
  const dims = attentionDims(
    'attention',
    [...SEQUENCE_ATTENTION_OPTION_KEYS, 'kernel', 'keySplits', 'dkvSplits', 'returnLse'],
    q,
    k,
    v,
    options,
  );
  const kernel = options.kernel === undefined ? 'auto' : options.kernel;
  if (!KERNELS.includes(kernel))
    throw new TypeError(
      `attention: kernel must be 'auto', 'tiled', 'row' or 'lanes', got ${JSON.stringify(kernel)}`,
    );
  const asked = options.keySplits === undefined ? 'auto' : options.keySplits;
  checkSplits('attention', 'keySplits', asked);
  const askedDkv = options.dkvSplits === undefined ? 'auto' : options.dkvSplits;
  checkSplits('attention', 'dkvSplits', askedDkv);
  if (options.returnLse !== undefined && typeof options.returnLse !== 'boolean')
    throw new TypeError(
      `attention: returnLse must be true or false, got ${JSON.stringify(options.returnLse)}`,
    );
  const params: FlashParams = { ...dims, kvCapacity: k.shape[2]!, kernel };
  const training = isGradEnabled() && [q, k, v].some((t) => t.requiresGrad);
  // dkvSplits concerns the backward pass: it counts only where one will follow.
  const splitsForced = asked !== 'auto' || (training && askedDkv !== 'auto');
  if (!options.returnLse && !splitsForced && naiveIsFaster(params, q.device.info, training)) {
    const { kernel: _k, keySplits: _s, dkvSplits: _d, returnLse: _r, ...sequenceOptions } = options;
    // Without a graph to keep them for backward, the score matrix and its masks go at once.
    return training
      ? naiveAttention(q, k, v, sequenceOptions)
      : tidy(() => naiveAttention(q, k, v, sequenceOptions));
  }
  // Strided q/k/v (heads split from a projection by a transposed view) are packed once by the
  // op; the backward kernels reuse those packed copies.
  const mask = kernelMask(options);
  const inputs = [q, k, v, ...(mask ? [mask] : [])];
  params.splits = keySplits(params, asked, q.device.info);
  params.dkvSplits = training ? dkvSplits(params, askedDkv, q.device.info) : 1;
  const [out, lse, ...partials] = attentionOp(inputs, params);
  for (const t of partials) t.dispose(); // the combine pass's scratch; backward needs O and lse
  if (options.returnLse) return { out: out!, lse: lse! };
  if (!lse!.node) lse!.dispose();
  return out!;
}

/** When the naive path beats `row`: from `headDim` without a mask; with one, from both `masked…`. */
interface Crossover {
  headDim: number;
  maskedHeadDim: number;
  maskedPositions: number;
}

/**
 * Where the naive path beats the `row` kernel on a CPU adapter, measured on lavapipe with
 * `kernel: 'row'` against `naiveAttention` (`bench/crossover.ts`, README "Which kernel"): `row`
 * walks K and V with a scalar load per element, so its cost grows with headDim faster than the
 * naive path's matmuls; a causal mask or window halves `row`'s work and none of naive's; and
 * `row`'s backward passes cost more against naive's than its forward does. So for a forward pass
 * alone, naive from headDim 64 without a mask (1.5–3.6× faster), and from headDim 128 with one;
 * forward and backward (an input that requires grad), naive from headDim 32 without a mask
 * (1.0–3.8×), and with one from headDim 64 and 128 × 128 positions (0.7–1.7×, near a tie at
 * headDim 64 across runs).
 */
export const ROW_NAIVE_CROSSOVER: { forward: Crossover; training: Crossover } = {
  forward: { headDim: 64, maskedHeadDim: 128, maskedPositions: 0 },
  training: { headDim: 32, maskedHeadDim: 64, maskedPositions: 128 * 128 },
};

/**
 * Whether `kernel: 'auto'` runs the naive path: on a CPU WebGPU adapter where the flash kernel
 * would be `row` (no subgroups, or a headDim `lanes` does not take), where `ROW_NAIVE_CROSSOVER`
 * says it is faster — for a forward pass alone, or with `training` forward and backward — and
 * the [batch, heads, Sq, Sk] f32 scores fit the adapter's storage binding limit.
 */
export function naiveIsFaster(p: FlashParams, info: DeviceInfo, training = false): boolean {
  if (p.kernel !== 'auto' || info.backend !== 'webgpu' || !info.software) return false;
  if (chooseKernel(p, info) !== 'row') return false;
  const c = training ? ROW_NAIVE_CROSSOVER.training : ROW_NAIVE_CROSSOVER.forward;
  const faster =
    p.causal || p.window > 0
      ? p.headDim >= c.maskedHeadDim && p.sq * p.sk >= c.maskedPositions
      : p.headDim >= c.headDim;
  const scoreBytes = p.batch * p.heads * p.sq * p.sk * 4;
  return faster && scoreBytes <= (info.limits.maxStorageBufferBindingSize ?? 0);
}

/**
 * Splits for a pass: 1 off WebGPU, the number asked for, or `autoSplits`'s choice for
 * `workgroups` and a reduction over `length` rows, within what the storage binding limit allows
 * for the partial outputs (`perSplit` bytes each). A forced number past it is an error naming
 * the option.
 */
function passSplits(
  name: string,
  asked: number | 'auto',
  info: DeviceInfo,
  [length, workgroups, perSplit]: [number, number, number],
): number {
  if (info.backend !== 'webgpu') return 1;
  const limit = info.limits.maxStorageBufferBindingSize ?? Number.POSITIVE_INFINITY;
  const most = Math.max(1, Math.floor(limit / Math.max(perSplit, 1)));
  if (asked !== 'auto') {
    if (asked > 1 && asked > most)
      throw new RangeError(
        `attention: ${name} ${asked} needs ${((asked * perSplit) / 2 ** 20).toFixed(1)} MiB of partial outputs, over the adapter's ${(limit / 2 ** 20).toFixed(0)} MiB storage binding limit; at most ${most} fit`,
      );
    return asked;
  }
  return Math.min(most, autoSplits(length, workgroups, info));
}

/** The forward's key splits: partial outputs splits × batch·heads·Sq × headDim f32. */
function keySplits(p: FlashParams, asked: number | 'auto', info: DeviceInfo): number {
  const rows = info.backend === 'webgpu' ? rowsPerWorkgroup(chooseKernel(p, info)) : 1;
  const workgroups = p.batch * p.heads * Math.ceil(p.sq / rows);
  const perSplit = p.batch * p.heads * p.sq * p.headDim * 4;
  return passSplits('keySplits', asked, info, [p.sk, workgroups, perSplit]);
}

/** dK/dV's query splits: partial gradients splits × batch·kvHeads·Sk × headDim f32, twice. */
function dkvSplits(p: FlashParams, asked: number | 'auto', info: DeviceInfo): number {
  const rows = info.backend === 'webgpu' ? rowsPerWorkgroup(chooseKernel(p, info)) : 1;
  const workgroups = p.batch * p.kvHeads * Math.ceil(p.sk / rows);
  const perSplit = p.batch * p.kvHeads * p.sk * p.headDim * 4;
  return passSplits('dkvSplits', asked, info, [p.sq, workgroups, perSplit]);
}

/**
 * The kernels' one mask buffer: the padding mask, or with `documentIds` the ids + 1, negated
 * where the padding mask drops the key (a key needs a positive value equal to the query's own
 * value in absolute terms: a padded position still asks as a query; id −1 gives 0, masked both
 * ways).
 */
function kernelMask(o: SequenceAttentionOptions): Tensor | undefined {
  if (!o.documentIds) return o.keyPaddingMask;
  const ids = add(o.documentIds, 1);
  return o.keyPaddingMask ? mul(ids, sub(mul(o.keyPaddingMask, 2), 1)) : ids;
}
