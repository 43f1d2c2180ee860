import type { TextDocument } from './document.js';
import type { Hit } from './hit.js';
import type { Reranker } from './models.js';

/**
 * The reranking stage: scores each candidate's text against the query with a cross-encoder and
 * returns the candidates by that score, best first (ties keep the candidates' order).
 *
 * @param candidates - documents (chunks) from a first-stage retriever, best first
 * @param topN - how many to return; default all
 * @throws RangeError - the reranker returns the wrong number of scores or a non-finite score
 */
export async function rerank<T extends TextDocument>(
  reranker: Reranker,
  query: string,
  candidates: readonly T[],
  topN = candidates.length,
): Promise<(T & Hit)[]> {
  if (!Number.isInteger(topN) || topN < 0)
    throw new RangeError(`rerank: topN must be an integer >= 0, got ${topN}`);
  if (candidates.length === 0) return [];
  const scores = await reranker.score(
    query,
    candidates.map((c) => c.text),
  );
  if (!Array.isArray(scores) || scores.length !== candidates.length)
    throw new RangeError(
      `rerank: the reranker returned ${Array.isArray(scores) ? scores.length : typeof scores} scores for ${candidates.length} documents`,
    );
  scores.forEach((s, i) => {
    if (!Number.isFinite(s))
      throw new RangeError(`rerank: the reranker's score ${i} is ${s}, expected a finite number`);
  });
  return candidates
    .map((_, i) => i)
    .sort((a, b) => scores[b]! - scores[a]! || a - b)
    .slice(0, topN)
    .map((i) => ({ ...candidates[i]!, score: scores[i]! }));
}
