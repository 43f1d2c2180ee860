import {
  add,
  contiguous,
  type DeviceInfo,
  defineOp,
  isGradEnabled,
  mul,
  sub,
  type Tensor,
  tidy,
} from '@tessera/tensor-webgpu';
import { flashDkvOp, flashDqOp } from './flash-backward.js';
import {
  chooseKernel,
  type FlashKernel,
  type FlashParams,
  flashForwardOp,
  forwardRowsPerWorkgroup,
} from './flash-forward.js';
import { autoKeySplits, checkKeySplits } from './key-split.js';
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
    const [dk, dv] = flashDkvOp([q!, k!, v!, g, lse!, delta!, ...extra], params);
    return [dq!, dk!, dv!, ...(mask ? [null] : [])];
  },
});

export interface FlashOptions extends SequenceAttentionOptions {
  /**
   * WebGPU kernel (forward and backward): `auto` (default) picks `lanes` on CPU WebGPU
   * implementations with subgroups (else `row`) and `tiled` on GPUs; see `FlashKernel`.
   */
  kernel?: FlashKernel | 'auto';
  /**
   * Key splits of the forward pass on WebGPU (split-K, flash-decoding style; `key-split.ts`):
   * `auto` (default) splits on a GPU where the call has too few query blocks to fill it (fewer
   * than 256 workgroups), keeping at least 256 keys a split, and never on a CPU adapter (whose
   * workgroups run one after another); an integer 1–64 forces that many (1: no split). Results
   * are the same either way up to rounding; the CPU and wasm backends never split.
   */
  keySplits?: number | 'auto';
}

/**
 * Exact attention softmax(q·kᵀ·scale + mask)·v without materialising the scores, forward and
 * backward. q: [batch, heads, Sq, headDim]; k, v: [batch, kvHeads, Sk, headDim] with kvHeads
 * dividing heads (MHA, GQA, MQA — K/V are indexed per group, never copied). Returns the output
 * [batch, heads, Sq, headDim]; with `returnLse`, also the per-row log-sum-exp [batch, heads, Sq].
 * With `documentIds`, packed examples attend only within themselves (forward and backward).
 */
export function attention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options: FlashOptions & { returnLse: true },
): { out: Tensor; lse: Tensor };
export function attention(q: Tensor, k: Tensor, v: Tensor, options?: FlashOptions): Tensor;
export function attention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options: FlashOptions & { returnLse?: boolean } = {},
): Tensor | { out: Tensor; lse: Tensor } {
  const dims = attentionDims(
    'attention',
    [...SEQUENCE_ATTENTION_OPTION_KEYS, 'kernel', 'keySplits', 'returnLse'],
    q,
    k,
    v,
    options,
  );
  const kernel = options.kernel ?? 'auto';
  if (!['auto', 'tiled', 'row', 'lanes'].includes(kernel))
    throw new TypeError(
      `attention: kernel must be 'auto', 'tiled', 'row' or 'lanes', got ${JSON.stringify(kernel)}`,
    );
  checkKeySplits('attention', options.keySplits ?? 'auto');
  const params: FlashParams = { ...dims, kvCapacity: k.shape[2]!, kernel };
  if (!options.returnLse && naiveIsFaster(params, q.device.info)) {
    const { kernel: _k, keySplits: _s, returnLse: _r, ...sequenceOptions } = options;
    const grad = isGradEnabled() && [q, k, v].some((t) => t.requiresGrad);
    // Without a graph to keep them for backward, the score matrix and its masks go at once.
    return grad
      ? naiveAttention(q, k, v, sequenceOptions)
      : tidy(() => naiveAttention(q, k, v, sequenceOptions));
  }
  // Strided q/k/v (heads split from a projection by a transposed view) are packed once by the
  // op; the backward kernels reuse those packed copies.
  const mask = kernelMask(options);
  const inputs = [q, k, v, ...(mask ? [mask] : [])];
  params.splits = keySplits(params, options.keySplits ?? 'auto', q.device.info);
  const [out, lse, ...partials] = attentionOp(inputs, params);
  for (const t of partials) t.dispose(); // the combine pass's scratch; backward needs O and lse
  if (options.returnLse) return { out: out!, lse: lse! };
  if (!lse!.node) lse!.dispose();
  return out!;
}

/**
 * Where the naive path beats the `row` kernel on a CPU adapter, measured on lavapipe with
 * `kernel: 'row'` against `naiveAttention` (README, "Which kernel"): `row` walks K and V with a
 * scalar load per element, so its cost grows with headDim faster than the naive path's matmuls.
 * From headDim 64 without a causal mask or window the naive path takes about half the time at
 * every length measured (64 to 1024); with one, `row` skips the hidden keys and wins up to about
 * 384 × 384 positions (or below headDim 128); below headDim 64 `row` wins everywhere (0.1–0.7×).
 */
export const ROW_NAIVE_CROSSOVER = { headDim: 64, maskedPositions: 384 * 384, maskedHeadDim: 128 };

/**
 * Whether `kernel: 'auto'` runs the naive path: on a CPU WebGPU adapter where the flash kernel
 * would be `row` (no subgroups, or a headDim `lanes` does not take), where `ROW_NAIVE_CROSSOVER`
 * says it is faster and the [batch, heads, Sq, Sk] f32 scores fit the adapter's storage binding
 * limit.
 */
export function naiveIsFaster(p: FlashParams, info: DeviceInfo): boolean {
  if (p.kernel !== 'auto' || info.backend !== 'webgpu' || !info.software) return false;
  if (chooseKernel(p, info) !== 'row') return false;
  const c = ROW_NAIVE_CROSSOVER;
  const masked = p.causal || p.window > 0;
  const faster =
    p.headDim >= c.headDim &&
    (!masked || p.headDim >= c.maskedHeadDim || p.sq * p.sk >= c.maskedPositions);
  const scoreBytes = p.batch * p.heads * p.sq * p.sk * 4;
  return faster && scoreBytes <= (info.limits.maxStorageBufferBindingSize ?? 0);
}

/** Key splits for a call: 1 off WebGPU, the number asked for, or `autoKeySplits`'s choice. */
function keySplits(p: FlashParams, asked: number | 'auto', info: DeviceInfo): number {
  if (info.backend !== 'webgpu') return 1;
  if (asked !== 'auto') return asked;
  const rows = forwardRowsPerWorkgroup(chooseKernel(p, info));
  return autoKeySplits(p, p.batch * p.heads * Math.ceil(p.sq / rows), info);
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
