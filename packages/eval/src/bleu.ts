/**
 * BLEU as sacreBLEU 2.x computes it (Papineni et al., 2002; Post, 2018): tokenise (13a by
 * default), count clipped n-gram matches over the corpus (orders 1–4), smooth (Chen & Cherry,
 * 2014), multiply by the brevity penalty against the closest reference length. Statistics,
 * effective order and floating-point operations follow sacreBLEU's `BLEU.compute_bleu`.
 */

import { type BleuTokenizer, bleuTokens } from './bleu-tokenizers.js';
import { checkReferenceStreams } from './ngrams.js';
import { checkOptions } from './options.js';

export type BleuSmoothing = 'exp' | 'floor' | 'add-k' | 'none';

export interface BleuOptions {
  /** The tokenizer (default `13a`); see `tokenize13a`, `tokenizeIntl`, `tokenizeZh`. */
  tokenize?: BleuTokenizer;
  /** Smoothing of zero precisions (default `exp`, mteval's). */
  smoothMethod?: BleuSmoothing;
  /** floor: the precision given to zero matches (default 0.1); add-k: k (default 1). */
  smoothValue?: number;
  /** Lowercase hypotheses and references first (default false). */
  lowercase?: boolean;
  /**
   * Average only the orders up to the last one the hypotheses have n-grams of (after add-k),
   * so short sentences still score. Default false for corpora, true for `sentenceBleu`.
   */
  effectiveOrder?: boolean;
}

export interface BleuResult {
  /** BLEU in [0, 100]. */
  score: number;
  /** Percent precisions of orders 1..4 (smoothed; 0 past the effective order). */
  precisions: number[];
  /** Clipped n-gram matches of orders 1..4, summed over the corpus, before smoothing. */
  counts: number[];
  /** Hypothesis n-grams of orders 1..4, summed over the corpus, before smoothing. */
  totals: number[];
  /** Brevity penalty. */
  bp: number;
  /** hypLen / refLen (0 when refLen is 0). */
  ratio: number;
  /** Hypothesis tokens in the corpus. */
  hypLen: number;
  /** Closest reference lengths, summed (ties go to the shorter reference). */
  refLen: number;
  /** sacreBLEU's reproducibility signature (with `version:tessera`). */
  signature: string;
}

const OPTION_KEYS = ['tokenize', 'smoothMethod', 'smoothValue', 'lowercase', 'effectiveOrder'];
const SMOOTH_DEFAULTS: Record<BleuSmoothing, number | undefined> = {
  exp: undefined,
  floor: 0.1,
  'add-k': 1,
  none: undefined,
};
const MAX_ORDER = 4;

/** Counts of every n-gram of orders 1..4, one map per order (tokens never hold a space). */
function ngramCounts(tokens: readonly string[]): Map<string, number>[] {
  const counts = Array.from({ length: MAX_ORDER }, () => new Map<string, number>());
  for (let i = 0; i < tokens.length; i++) {
    let key = tokens[i]!;
    for (let n = 0; n < MAX_ORDER && i + n < tokens.length; n++) {
      if (n > 0) key += ` ${tokens[i + n]}`;
      counts[n]!.set(key, (counts[n]!.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

/** The closest reference length to `hypLen`; ties go to the shorter reference. */
function closestRefLen(hypLen: number, refLens: readonly number[]): number {
  let closest = refLens[0]!;
  for (const len of refLens) {
    const d = Math.abs(len - hypLen);
    const best = Math.abs(closest - hypLen);
    if (d < best || (d === best && len < closest)) closest = len;
  }
  return closest;
}

/** sacreBLEU's `my_log`: log, with log(0) floored to -9999999999 (so exp gives 0). */
const floorLog = (x: number) => (x === 0 ? -9999999999 : Math.log(x));

/**
 * Corpus BLEU. `references` is a list of reference streams, each as long as `hypotheses`
 * (sacreBLEU's layout: `references[k][i]` is the k-th reference of sentence i).
 *
 * @throws RangeError - no reference stream, or a stream of another length than `hypotheses`
 * @throws TypeError - an unknown option, tokenizer or smoothing method
 */
export function corpusBleu(
  hypotheses: readonly string[],
  references: readonly (readonly string[])[],
  options: BleuOptions = {},
): BleuResult {
  checkOptions('corpusBleu', options, OPTION_KEYS);
  checkReferenceStreams('corpusBleu', hypotheses, references);
  const tok = options.tokenize ?? '13a';
  const smooth = options.smoothMethod ?? 'exp';
  if (!Object.hasOwn(SMOOTH_DEFAULTS, smooth))
    throw new TypeError(
      `corpusBleu: smoothMethod must be exp, floor, add-k or none, got ${JSON.stringify(smooth)}`,
    );
  const smoothValue = options.smoothValue ?? SMOOTH_DEFAULTS[smooth] ?? 0;
  const prep = (s: string) => bleuTokens(tok, options.lowercase ? s.toLowerCase() : s);
  const counts = [0, 0, 0, 0];
  const totals = [0, 0, 0, 0];
  let hypLen = 0;
  let refLen = 0;
  for (const [i, hyp] of hypotheses.entries()) {
    const h = prep(hyp);
    const refs = references.map((stream) => prep(stream[i]!));
    hypLen += h.length;
    refLen += closestRefLen(
      h.length,
      refs.map((r) => r.length),
    );
    const refCounts = refs.map(ngramCounts);
    for (const [n, grams] of ngramCounts(h).entries()) {
      for (const [g, c] of grams) {
        let maxRef = 0;
        for (const rc of refCounts) maxRef = Math.max(maxRef, rc[n]!.get(g) ?? 0);
        counts[n]! += Math.min(c, maxRef);
        totals[n]! += c;
      }
    }
  }
  const bp = hypLen < refLen ? (hypLen > 0 ? Math.exp(1 - refLen / hypLen) : 0) : 1;
  const precisions = [0, 0, 0, 0];
  let score = 0;
  // As sacreBLEU: no match of any order scores 0 whatever the smoothing.
  if (counts.some((c) => c > 0)) {
    let mteval = 1;
    let order = MAX_ORDER;
    for (let n = 0; n < MAX_ORDER; n++) {
      const addK = smooth === 'add-k' && n > 0 ? smoothValue : 0;
      const correct = counts[n]! + addK;
      const total = totals[n]! + addK;
      if (total === 0) break;
      if (options.effectiveOrder) order = n + 1;
      if (correct > 0) precisions[n] = (100 * correct) / total;
      else if (smooth === 'exp') {
        mteval *= 2;
        precisions[n] = 100 / (mteval * total);
      } else if (smooth === 'floor') precisions[n] = (100 * smoothValue) / total;
    }
    const logSum = precisions.slice(0, order).reduce((sum, p) => sum + floorLog(p), 0);
    score = bp * Math.exp(logSum / order);
  }
  const smoothSig =
    SMOOTH_DEFAULTS[smooth] === undefined ? smooth : `${smooth}[${smoothValue.toFixed(2)}]`;
  const signature = `nrefs:${references.length}|case:${options.lowercase ? 'lc' : 'mixed'}|eff:${options.effectiveOrder ? 'yes' : 'no'}|tok:${tok}|smooth:${smoothSig}|version:tessera`;
  return {
    score,
    precisions,
    counts,
    totals,
    bp,
    ratio: refLen === 0 ? 0 : hypLen / refLen,
    hypLen,
    refLen,
    signature,
  };
}

/**
 * Sentence BLEU: corpus BLEU of one sentence against one or more references, with effective
 * order on by default (as sacreBLEU's `sentence_bleu`).
 *
 * @throws TypeError - an unknown option, tokenizer or smoothing method
 */
export function sentenceBleu(
  hypothesis: string,
  references: readonly string[],
  options: BleuOptions = {},
): BleuResult {
  checkOptions('sentenceBleu', options, OPTION_KEYS);
  return corpusBleu(
    [hypothesis],
    references.map((r) => [r]),
    { effectiveOrder: true, ...options },
  );
}
