import type { Hit } from './hit.js';
import { checkOptions } from './options.js';

/** Options of {@link reciprocalRankFusion}. */
export interface RrfOptions {
  /** The constant k of 1 / (k + rank). Default 60 (Cormack et al.). */
  k?: number;
  /** One weight per ranking. Default 1 each. */
  weights?: readonly number[];
}

/** Options of {@link weightedScoreFusion}. */
export interface WeightedFusionOptions {
  /** One weight per ranking. Default 1 each. */
  weights?: readonly number[];
  /**
   * How each ranking's scores are put on one scale before weighting: `'min-max'` (default) maps
   * a ranking's scores to [0, 1] (all equal → 1); `'none'` uses them as they are.
   */
  normalize?: 'min-max' | 'none';
}

function checkRankings(where: string, rankings: readonly (readonly { id: string }[])[]) {
  if (!Array.isArray(rankings) || rankings.length === 0)
    throw new RangeError(`${where}: rankings must be a non-empty array of ranked lists`);
  rankings.forEach((list, r) => {
    if (!Array.isArray(list)) throw new TypeError(`${where}: rankings[${r}] is not an array`);
    const seen = new Set<string>();
    list.forEach((hit, i) => {
      if (seen.has(hit.id))
        throw new RangeError(
          `${where}: rankings[${r}] lists id ${JSON.stringify(hit.id)} twice (again at ${i})`,
        );
      seen.add(hit.id);
    });
  });
}

function checkWeights(where: string, weights: readonly number[] | undefined, count: number) {
  const w = weights ?? new Array<number>(count).fill(1);
  if (w.length !== count || !w.every((x) => Number.isFinite(x) && x >= 0))
    throw new RangeError(
      `${where}: weights must be ${count} finite numbers >= 0 (one per ranking), got ${JSON.stringify(weights)}`,
    );
  return w;
}

/** Fused scores, best first; ties keep the order in which ids were first met. */
function ranked(scores: Map<string, number>): Hit[] {
  return [...scores]
    .map(([id, score], order) => ({ id, score, order }))
    .sort((a, b) => b.score - a.score || a.order - b.order)
    .map(({ id, score }) => ({ id, score }));
}

/**
 * Reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009): an id's score is
 * Σ wᵢ / (k + rankᵢ) over the rankings that hold it, with rank 1 for the first. Only ranks
 * matter, so rankings with incomparable scores (BM25, cosine) fuse without tuning.
 *
 * @param rankings - ranked lists, best first (scores, if any, are ignored)
 * @throws RangeError - no rankings, an id twice in one ranking, bad weights or k
 */
export function reciprocalRankFusion(
  rankings: readonly (readonly { id: string }[])[],
  options: RrfOptions = {},
): Hit[] {
  checkOptions('reciprocalRankFusion', options, ['k', 'weights']);
  checkRankings('reciprocalRankFusion', rankings);
  const k = options.k ?? 60;
  if (!Number.isFinite(k) || k < 0)
    throw new RangeError(`reciprocalRankFusion: k must be a finite number >= 0, got ${k}`);
  const weights = checkWeights('reciprocalRankFusion', options.weights, rankings.length);
  const scores = new Map<string, number>();
  rankings.forEach((list, r) => {
    list.forEach((hit, i) => {
      scores.set(hit.id, (scores.get(hit.id) ?? 0) + weights[r]! / (k + i + 1));
    });
  });
  return ranked(scores);
}

/**
 * Weighted score fusion (convex combination, Bruch et al., "An Analysis of Fusion Functions for
 * Hybrid Retrieval", 2023): each ranking's scores are min-max normalised, then an id's score is
 * Σ wᵢ · normᵢ, an id a ranking lacks adding 0 for it.
 *
 * @param rankings - scored lists (higher is better; vector hits via `scoresFromDistances`)
 * @throws RangeError - no rankings, an id twice in one ranking, a non-finite score, bad weights
 */
export function weightedScoreFusion(
  rankings: readonly (readonly Hit[])[],
  options: WeightedFusionOptions = {},
): Hit[] {
  const where = 'weightedScoreFusion';
  checkOptions(where, options, ['weights', 'normalize']);
  checkRankings(where, rankings);
  const weights = checkWeights(where, options.weights, rankings.length);
  const normalize = options.normalize ?? 'min-max';
  if (normalize !== 'min-max' && normalize !== 'none')
    throw new RangeError(`${where}: normalize must be 'min-max' or 'none', got ${normalize}`);
  const scores = new Map<string, number>();
  rankings.forEach((list, r) => {
    const values = list.map((h, i) => {
      if (!Number.isFinite(h.score))
        throw new RangeError(
          `${where}: rankings[${r}][${i}].score is ${h.score}, expected a finite number`,
        );
      return h.score;
    });
    const lo = Math.min(...values);
    const hi = Math.max(...values);
    list.forEach((hit, i) => {
      const norm = normalize === 'none' ? values[i]! : hi > lo ? (values[i]! - lo) / (hi - lo) : 1;
      scores.set(hit.id, (scores.get(hit.id) ?? 0) + weights[r]! * norm);
    });
  });
  return ranked(scores);
}
