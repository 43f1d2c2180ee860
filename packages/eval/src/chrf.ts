/**
 * chrF and chrF++ as sacreBLEU 2.x computes them (Popović, 2015 and 2017): character n-grams of
 * orders 1..charOrder (Python's whitespace removed by default) and, for chrF++, word n-grams of
 * orders 1..wordOrder. Per sentence the reference with the best F score counts; its statistics
 * are summed over the corpus, then turned into one F-beta score. Statistics, effective order,
 * epsilon smoothing and floating-point operations follow sacreBLEU's `CHRF`.
 */

import { checkReferenceStreams, countNgrams } from './ngrams.js';
import { checkOptions } from './options.js';
import { pythonSplit } from './python-str.js';

export interface ChrfOptions {
  /** Character n-gram order (default 6). */
  charOrder?: number;
  /** Word n-gram order: 0 for chrF (default), 2 for chrF++. */
  wordOrder?: number;
  /** Recall weight β (default 2). */
  beta?: number;
  /** Keep whitespace inside character n-grams (default false, as sacreBLEU). */
  keepWhitespace?: boolean;
  /** Lowercase hypotheses and references first (default false). */
  lowercase?: boolean;
  /**
   * Average the per-order F scores over all orders, an empty order counting ε = 1e-16 (chrF++.py,
   * Moses and NLTK) instead of averaging precision and recall over the orders that both the
   * hypothesis and the reference fill (sacreBLEU's default, "effective order").
   */
  epsSmoothing?: boolean;
}

export interface ChrfResult {
  /** chrF in [0, 100]. */
  score: number;
  /**
   * [hypothesis n-grams, reference n-grams, matches] per order (characters 1..charOrder, then
   * words 1..wordOrder), flattened and summed over the corpus. Where a reference has no n-gram
   * of an order, the hypothesis's n-grams of that order are not counted.
   */
  statistics: number[];
  /** sacreBLEU's reproducibility signature (with `version:tessera`). */
  signature: string;
}

const OPTION_KEYS = [
  'charOrder',
  'wordOrder',
  'beta',
  'keepWhitespace',
  'lowercase',
  'epsSmoothing',
];
const EPS = 1e-16;

// Python's string.punctuation, which chrF++ splits off the ends of words.
const PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');

/** Words with one trailing, else one leading, punctuation mark split off, as sacreBLEU's chrF++. */
function chrfWords(line: string): string[] {
  const words: string[] = [];
  for (const w of pythonSplit(line)) {
    const chars = Array.from(w);
    if (chars.length === 1) words.push(w);
    else if (PUNCTUATION.has(chars.at(-1)!)) words.push(chars.slice(0, -1).join(''), chars.at(-1)!);
    else if (PUNCTUATION.has(chars[0]!)) words.push(chars[0]!, chars.slice(1).join(''));
    else words.push(w);
  }
  return words;
}

interface Resolved {
  charOrder: number;
  wordOrder: number;
  beta: number;
  keepWhitespace: boolean;
  lowercase: boolean;
  epsSmoothing: boolean;
}

function resolve(where: string, options: ChrfOptions): Resolved {
  checkOptions(where, options, OPTION_KEYS);
  const r = {
    charOrder: options.charOrder ?? 6,
    wordOrder: options.wordOrder ?? 0,
    beta: options.beta ?? 2,
    keepWhitespace: options.keepWhitespace ?? false,
    lowercase: options.lowercase ?? false,
    epsSmoothing: options.epsSmoothing ?? false,
  };
  for (const key of ['charOrder', 'wordOrder'] as const) {
    if (!Number.isInteger(r[key]) || r[key] < 0)
      throw new RangeError(`${where}: ${key} must be a non-negative integer, got ${r[key]}`);
  }
  if (r.charOrder + r.wordOrder === 0)
    throw new RangeError(`${where}: charOrder and wordOrder are both 0`);
  if (!(r.beta > 0)) throw new RangeError(`${where}: beta must be > 0, got ${r.beta}`);
  return r;
}

/** The n-gram counts of one line, character orders first, then word orders. */
function lineNgrams(line: string, o: Resolved): Map<string, number>[] {
  const text = o.lowercase ? line.toLowerCase() : line;
  const chars = Array.from(o.keepWhitespace ? text : pythonSplit(text).join(''));
  const out: Map<string, number>[] = [];
  for (let n = 1; n <= o.charOrder; n++) out.push(countNgrams(chars, n, ''));
  const words = o.wordOrder > 0 ? chrfWords(text) : [];
  for (let n = 1; n <= o.wordOrder; n++) out.push(countNgrams(words, n, ' '));
  return out;
}

/**
 * [hypothesis n-grams, reference n-grams, matches] per order, flattened. An order the reference
 * has no n-gram of counts no hypothesis n-gram either (sacreBLEU's rule).
 */
function matchStats(hyp: Map<string, number>[], ref: Map<string, number>[]): number[] {
  const stats: number[] = [];
  for (const [i, h] of hyp.entries()) {
    const r = ref[i]!;
    let nHyp = 0;
    let nRef = 0;
    let nMatch = 0;
    for (const [g, c] of h) {
      nHyp += c;
      nMatch += Math.min(c, r.get(g) ?? 0);
    }
    for (const c of r.values()) nRef += c;
    stats.push(r.size > 0 ? nHyp : 0, nRef, nMatch);
  }
  return stats;
}

/** sacreBLEU's `_compute_f_score`, operation for operation. */
function fScore(stats: readonly number[], o: Resolved): number {
  const orders = stats.length / 3;
  const factor = o.beta * o.beta;
  let epsScore = 0;
  let avgPrec = 0;
  let avgRec = 0;
  let effective = 0;
  for (let i = 0; i < orders; i++) {
    const [nHyp, nRef, nMatch] = [stats[3 * i]!, stats[3 * i + 1]!, stats[3 * i + 2]!];
    const prec = nHyp > 0 ? nMatch / nHyp : EPS;
    const rec = nRef > 0 ? nMatch / nRef : EPS;
    const denom = factor * prec + rec;
    epsScore += denom > 0 ? ((1 + factor) * prec * rec) / denom : EPS;
    if (nHyp > 0 && nRef > 0) {
      avgPrec += prec;
      avgRec += rec;
      effective++;
    }
  }
  if (o.epsSmoothing) return (100 * epsScore) / orders;
  if (effective > 0) {
    avgPrec /= effective;
    avgRec /= effective;
  }
  if (avgPrec + avgRec === 0) return 0;
  return 100 * (((1 + factor) * avgPrec * avgRec) / (factor * avgPrec + avgRec));
}

function chrf(
  where: string,
  hypotheses: readonly string[],
  references: readonly (readonly string[])[],
  options: ChrfOptions,
): ChrfResult {
  const o = resolve(where, options);
  checkReferenceStreams(where, hypotheses, references);
  const statistics = new Array<number>(3 * (o.charOrder + o.wordOrder)).fill(0);
  for (const [i, hyp] of hypotheses.entries()) {
    const h = lineNgrams(hyp, o);
    let best: number[] = [];
    let bestScore = -1;
    for (const stream of references) {
      const stats = matchStats(h, lineNgrams(stream[i]!, o));
      const score = fScore(stats, o);
      if (score > bestScore) [best, bestScore] = [stats, score];
    }
    for (const [j, v] of best.entries()) statistics[j]! += v;
  }
  const name = `chrF${o.beta}${'+'.repeat(o.wordOrder)}`;
  const signature = `${name}|nrefs:${references.length}|case:${o.lowercase ? 'lc' : 'mixed'}|eff:${o.epsSmoothing ? 'no' : 'yes'}|nc:${o.charOrder}|nw:${o.wordOrder}|space:${o.keepWhitespace ? 'yes' : 'no'}|version:tessera`;
  return { score: fScore(statistics, o), statistics, signature };
}

/**
 * Corpus chrF. `references` follows sacreBLEU's layout: `references[k][i]` is the k-th reference
 * of sentence i; for each sentence the reference with the best sentence score counts.
 *
 * @throws RangeError - no reference stream, a stream of another length, or a bad order or beta
 * @throws TypeError - an unknown option
 */
export function corpusChrf(
  hypotheses: readonly string[],
  references: readonly (readonly string[])[],
  options: ChrfOptions = {},
): ChrfResult {
  return chrf('corpusChrf', hypotheses, references, options);
}

/**
 * chrF of one sentence against one or more references.
 *
 * @throws RangeError - a bad order or beta
 * @throws TypeError - an unknown option
 */
export function sentenceChrf(
  hypothesis: string,
  references: readonly string[],
  options: ChrfOptions = {},
): ChrfResult {
  return chrf(
    'sentenceChrf',
    [hypothesis],
    references.map((r) => [r]),
    options,
  );
}
