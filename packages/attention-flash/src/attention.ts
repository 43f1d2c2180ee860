import {
  add,
  contiguous,
  type DeviceInfo,
  defineOp,
  mul,
  sub,
  type Tensor,
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
   * `auto` (default) splits where the call has too few query blocks to fill the adapter
   * (fewer than 16 workgroups on a CPU adapter, 256 on a GPU), with at least 8192 keys a split
   * on a CPU adapter (256 on a GPU); an integer
   * 1–64 forces that many (1: no split). Results are the same either way up to rounding; the CPU
   * and wasm backends never split.
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
  // Strided q/k/v (heads split from a projection by a transposed view) are packed once by the
  // op; the backward kernels reuse those packed copies.
  checkKeySplits('attention', options.keySplits ?? 'auto');
  const mask = kernelMask(options);
  const inputs = [q, k, v, ...(mask ? [mask] : [])];
  const params: FlashParams = { ...dims, kvCapacity: k.shape[2]!, kernel };
  params.splits = keySplits(params, options.keySplits ?? 'auto', q.device.info);
  const [out, lse, ...partials] = attentionOp(inputs, params);
  for (const t of partials) t.dispose(); // the combine pass's scratch; backward needs O and lse
  if (options.returnLse) return { out: out!, lse: lse! };
  if (!lse!.node) lse!.dispose();
  return out!;
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
