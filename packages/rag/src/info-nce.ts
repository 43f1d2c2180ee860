import * as T from '@tessera/tensor-webgpu';

/** Options of {@link infoNceLoss}. */
export interface InfoNceOptions {
  /** Softmax temperature τ over cosine similarities. Default 0.05 (a scale of 20, as sentence-transformers). */
  temperature?: number;
}

/** Rows scaled to unit length (PyTorch's `F.normalize`: x / max(‖x‖, 1e-12)). */
export function l2Normalize(x: T.Tensor): T.Tensor {
  return T.div(x, T.maximum(T.sqrt(T.sumOfSquares(x, -1, { keepDim: true })), 1e-12));
}

/**
 * The contrastive loss of a bi-encoder with in-batch negatives (InfoNCE: van den Oord et al.,
 * 2018; as DPR, Karpukhin et al., 2020, and sentence-transformers' `MultipleNegativesRankingLoss`):
 * query i's positive is document i, and every other document in the batch is a negative. Loss =
 * mean over queries of −log softmax(cos(qᵢ, d) / τ)ᵢ.
 *
 * queries f32 [B, D], docs f32 [N, D] with N ≥ B: rows B … N − 1 are extra negatives (e.g. hard
 * negatives from BM25) shared by every query. Returns a scalar f32 tensor (nats).
 *
 * @throws RangeError - shapes that do not fit, or a temperature that is not > 0
 */
export function infoNceLoss(
  queries: T.Tensor,
  docs: T.Tensor,
  options: InfoNceOptions = {},
): T.Tensor {
  T.checkOptions('infoNceLoss', options, ['temperature']);
  const temperature = options.temperature ?? 0.05;
  if (!(temperature > 0))
    throw new RangeError(`infoNceLoss: temperature must be > 0, got ${temperature}`);
  const [b, d] = queries.shape;
  if (queries.rank !== 2 || docs.rank !== 2 || docs.shape[1] !== d || docs.shape[0]! < b!)
    throw new RangeError(
      `infoNceLoss: expected queries [B, D] and docs [N >= B, D], got [${queries.shape.join(', ')}] and [${docs.shape.join(', ')}]`,
    );
  const similarity = T.matmul(l2Normalize(queries), T.transpose(l2Normalize(docs), 0, 1));
  const targets = T.arange(0, b!, 1, { dtype: 'i32', device: queries.device });
  return T.crossEntropy(T.div(similarity, temperature), targets);
}
