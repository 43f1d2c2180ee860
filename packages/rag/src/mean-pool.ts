import * as T from '@tessera/tensor-webgpu';

/**
 * The mean of each sequence's hidden states over its real tokens — the sentence embedding of
 * Sentence-BERT (Reimers & Gurevych, 2019; sentence-transformers' `Pooling(mode="mean")`).
 * hidden f32 [B, T, D], mask f32 [B, T] (1 for a real token, 0 for padding) → f32 [B, D]. A row
 * without real tokens pools to zeros (its token count is clamped to 1e-9, as there).
 *
 * @throws RangeError - hidden is not [B, T, D] or mask is not [B, T]
 */
export function meanPool(hidden: T.Tensor, mask: T.Tensor): T.Tensor {
  const [b, t] = hidden.shape;
  if (hidden.rank !== 3 || mask.rank !== 2 || mask.shape[0] !== b || mask.shape[1] !== t)
    throw new RangeError(
      `meanPool: expected hidden [B, T, D] and mask [B, T], got hidden [${hidden.shape.join(', ')}] and mask [${mask.shape.join(', ')}]`,
    );
  const summed = T.sum(T.mul(hidden, T.unsqueeze(mask, 2)), 1);
  return T.div(summed, T.maximum(T.sum(mask, 1, { keepDim: true }), 1e-9));
}
