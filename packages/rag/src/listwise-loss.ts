import * as T from '@tessera/tensor-webgpu';

/**
 * The listwise softmax loss of a reranker trained on hard negatives (as Nogueira & Cho's
 * monoBERT with several negatives, and sentence-transformers' `CrossEncoder` with
 * `MultipleNegativesRankingLoss`): each row holds a query's scores for its positive passage
 * (column 0) and its negatives; loss = mean over rows of −log softmax(row)₀.
 *
 * scores f32 [B, 1 + negatives] → scalar f32 (nats). With one negative it is the pairwise
 * (RankNet / Bradley–Terry) loss −log σ(s₊ − s₋).
 *
 * @throws RangeError - scores is not [B, n] with n ≥ 2
 */
export function listwiseLoss(scores: T.Tensor): T.Tensor {
  if (scores.rank !== 2 || scores.shape[1]! < 2)
    throw new RangeError(
      `listwiseLoss: scores must be [B, 1 + negatives] with at least one negative, got [${scores.shape.join(', ')}]`,
    );
  return T.crossEntropy(
    scores,
    T.zeros([scores.shape[0]!], { dtype: 'i32', device: scores.device }),
  );
}
