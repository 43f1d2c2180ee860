import { checkOptions } from './options.js';

/** Relevance judgments: query id → document id → grade (0 = judged not relevant). */
export type Qrels = Readonly<Record<string, Readonly<Record<string, number>>>>;

/** A system's output: query id → document id → score (higher is better), as pytrec_eval takes it. */
export type Run = Readonly<Record<string, Readonly<Record<string, number>>>>;

/** Options of {@link evaluateRun}. */
export interface EvaluateOptions {
  /** Cut-offs k for nDCG@k, Recall@k, P@k and MRR@k. Default [1, 3, 5, 10, 100, 1000], BEIR's. */
  cutoffs?: readonly number[];
  /** Smallest grade that counts as relevant for recall, precision and MRR. Default 1. */
  relevanceLevel?: number;
}

/** Mean and per-query values, keyed `nDCG@10`, `Recall@10`, `P@10`, `MRR@10` and `MRR`. */
export interface RunEvaluation {
  readonly mean: Record<string, number>;
  readonly perQuery: Record<string, Record<string, number>>;
}

/**
 * Document ids in trec_eval's order: score descending, with scores compared as 32-bit floats
 * (trec_eval stores them so), ties broken by document id in descending `strcmp` order
 * (`comp_sim_docno` in trec_eval's `form_res_rels.c`).
 */
export function rankedDocuments(scores: Readonly<Record<string, number>>): string[] {
  return Object.entries(scores)
    .map(([id, s]) => [id, Math.fround(s)] as const)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? 1 : a[0] > b[0] ? -1 : 0))
    .map(([id]) => id);
}

/**
 * nDCG@k as trec_eval's `ndcg_cut.k`: DCG = Σ gain / log2(rank + 1) over the first k ranks, with
 * the judged grade as gain (0 for unjudged or non-positive grades), divided by the DCG of the
 * ideal ranking of all positive grades in the judgments; 0 when nothing is relevant.
 */
export function ndcgAt(
  ranking: readonly string[],
  judgments: Readonly<Record<string, number>>,
  k: number,
): number {
  const gain = (g: number | undefined) => (g !== undefined && g > 0 ? g : 0);
  let dcg = 0;
  ranking.slice(0, k).forEach((id, i) => {
    dcg += gain(judgments[id]) / Math.log2(i + 2);
  });
  const ideal = Object.values(judgments)
    .filter((g) => g > 0)
    .sort((a, b) => b - a)
    .slice(0, k);
  let idcg = 0;
  ideal.forEach((g, i) => {
    idcg += g / Math.log2(i + 2);
  });
  return idcg > 0 ? dcg / idcg : 0;
}

const isRelevant = (g: number | undefined, level: number) => g !== undefined && g >= level;

/** Recall@k (trec_eval `recall.k`): relevant documents in the first k over all relevant; 0 if none. */
export function recallAt(
  ranking: readonly string[],
  judgments: Readonly<Record<string, number>>,
  k: number,
  relevanceLevel = 1,
): number {
  const relevant = Object.values(judgments).filter((g) => isRelevant(g, relevanceLevel)).length;
  if (relevant === 0) return 0;
  return (
    ranking.slice(0, k).filter((id) => isRelevant(judgments[id], relevanceLevel)).length / relevant
  );
}

/** P@k (trec_eval `P.k`): relevant documents in the first k over k, even when fewer are ranked. */
export function precisionAt(
  ranking: readonly string[],
  judgments: Readonly<Record<string, number>>,
  k: number,
  relevanceLevel = 1,
): number {
  return ranking.slice(0, k).filter((id) => isRelevant(judgments[id], relevanceLevel)).length / k;
}

/**
 * Reciprocal rank of the first relevant document within the first k (trec_eval `recip_rank`
 * when k is Infinity); 0 when none is there.
 */
export function reciprocalRank(
  ranking: readonly string[],
  judgments: Readonly<Record<string, number>>,
  k = Number.POSITIVE_INFINITY,
  relevanceLevel = 1,
): number {
  const i = ranking.findIndex((id) => isRelevant(judgments[id], relevanceLevel));
  return i >= 0 && i < k ? 1 / (i + 1) : 0;
}

/**
 * Scores a run against relevance judgments with trec_eval's conventions: each query's documents
 * ranked by {@link rankedDocuments}; nDCG@k, Recall@k, P@k, MRR@k per cut-off and MRR without one;
 * the mean over every query in the qrels, a query the run lacks scoring 0 (as `trec_eval -c`;
 * pytrec_eval and BEIR average over the queries the run holds, which is the same when every
 * query is run). Queries of the run that the qrels lack are ignored.
 *
 * @throws RangeError or TypeError - empty qrels, a non-finite score or grade, bad cut-offs
 */
export function evaluateRun(run: Run, qrels: Qrels, options: EvaluateOptions = {}): RunEvaluation {
  const where = 'evaluateRun';
  checkOptions(where, options, ['cutoffs', 'relevanceLevel']);
  const cutoffs = options.cutoffs ?? [1, 3, 5, 10, 100, 1000];
  const level = options.relevanceLevel ?? 1;
  if (!cutoffs.every((k) => Number.isInteger(k) && k >= 1) || cutoffs.length === 0)
    throw new RangeError(
      `${where}: cutoffs must be positive integers, got ${JSON.stringify(cutoffs)}`,
    );
  const queries = Object.keys(qrels);
  if (queries.length === 0) throw new RangeError(`${where}: qrels hold no query`);
  const perQuery: Record<string, Record<string, number>> = {};
  for (const q of queries) {
    const judgments = qrels[q]!;
    for (const [doc, g] of Object.entries(judgments))
      if (!Number.isFinite(g))
        throw new RangeError(`${where}: qrels["${q}"]["${doc}"] is ${g}, expected a number`);
    const scores = run[q] ?? {};
    for (const [doc, s] of Object.entries(scores))
      if (!Number.isFinite(s))
        throw new RangeError(`${where}: run["${q}"]["${doc}"] is ${s}, expected a finite score`);
    const ranking = rankedDocuments(scores);
    const values: Record<string, number> = {};
    for (const k of cutoffs) {
      values[`nDCG@${k}`] = ndcgAt(ranking, judgments, k);
      values[`Recall@${k}`] = recallAt(ranking, judgments, k, level);
      values[`P@${k}`] = precisionAt(ranking, judgments, k, level);
      values[`MRR@${k}`] = reciprocalRank(ranking, judgments, k, level);
    }
    values.MRR = reciprocalRank(ranking, judgments, Number.POSITIVE_INFINITY, level);
    perQuery[q] = values;
  }
  const mean: Record<string, number> = {};
  for (const name of Object.keys(perQuery[queries[0]!]!))
    mean[name] = queries.reduce((s, q) => s + perQuery[q]![name]!, 0) / queries.length;
  return { mean, perQuery };
}
