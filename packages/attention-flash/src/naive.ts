import {
  add,
  arange,
  eq,
  expand,
  full,
  ge,
  gt,
  le,
  lt,
  matmul,
  max,
  mul,
  reshape,
  softmax,
  sub,
  type Tensor,
  transpose,
  where,
} from '@tessera/tensor-webgpu';
import {
  attentionDims,
  SEQUENCE_ATTENTION_OPTION_KEYS,
  type SequenceAttentionOptions,
} from './options.js';

/**
 * Reference attention with the score matrix materialised: (q·kᵀ)·scale, masks as −∞, softmax,
 * then ·v — on either backend, from core ops. The oracle for the flash kernels and the baseline
 * of their benchmark. GQA by broadcasting k and v over each group (a view, not a copy);
 * `documentIds` as a block-diagonal mask over the score matrix. A row that sees no key (masked
 * out, or no keys at all) outputs zeros.
 */
export function naiveAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options: SequenceAttentionOptions = {},
): Tensor {
  const d = attentionDims('naiveAttention', SEQUENCE_ATTENTION_OPTION_KEYS, q, k, v, options);
  // No keys: every row sees nothing and outputs zeros, as the flash kernels do (q·0 keeps the graph).
  if (d.sk === 0) return mul(q, 0);
  const group = d.heads / d.kvHeads;
  const device = q.device;
  const qg = reshape(q, [d.batch, d.kvHeads, group, d.sq, d.headDim]);
  const kg = reshape(k, [d.batch, d.kvHeads, 1, d.sk, d.headDim]);
  const vg = reshape(v, [d.batch, d.kvHeads, 1, d.sk, d.headDim]);
  const scores = mul(matmul(qg, transpose(kg)), d.scale); // [B, Hkv, G, Sq, Sk]
  // Allowed positions as a 0/1 mask [Sq, Sk] (and [B, 1, 1, 1, Sk] for padding).
  const i = reshape(add(arange(d.sq, undefined, 1, { device, dtype: 'f32' }), d.sk - d.sq), [
    d.sq,
    1,
  ]);
  const j = reshape(arange(d.sk, undefined, 1, { device, dtype: 'f32' }), [1, d.sk]);
  let allowed = full([d.sq, d.sk], 1, { device });
  if (d.causal) allowed = mul(allowed, le(j, i));
  if (d.window > 0) {
    allowed = mul(allowed, gt(j, sub(i, d.window)));
    if (!d.causal) allowed = mul(allowed, lt(j, add(i, d.window)));
  }
  let keep: Tensor = expand(allowed, [d.batch, 1, 1, d.sq, d.sk]);
  if (options.keyPaddingMask)
    keep = mul(keep, reshape(options.keyPaddingMask, [d.batch, 1, 1, 1, d.sk]));
  if (options.documentIds) {
    // Block-diagonal: query i and key j in the same document (and −1 masks like padding).
    const ids = options.documentIds;
    const same = eq(reshape(ids, [d.batch, 1, 1, d.sq, 1]), reshape(ids, [d.batch, 1, 1, 1, d.sk]));
    keep = mul(mul(keep, same), reshape(ge(ids, 0), [d.batch, 1, 1, 1, d.sk]));
  }
  const masked = where(keep, scores, -1e30);
  const probs = softmax(masked, -1);
  // Rows with no allowed key output zeros (the softmax of all −1e30 is uniform otherwise).
  const anyKey = max(keep, -1, { keepDim: true });
  const p = where(eq(anyKey, 0), 0, where(keep, probs, 0));
  const out = matmul(p, vg); // [B, Hkv, G, Sq, D]
  return reshape(out, [d.batch, d.heads, d.sq, d.headDim]);
}
