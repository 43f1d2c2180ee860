/**
 * chrF and chrF++ as sacrebleu computes them (Popović, 2015/2017): character n-grams of orders
 * 1..charOrder (whitespace removed by default) and, for chrF++, word n-grams of orders
 * 1..wordOrder. Statistics are summed over the corpus, then turned into an F-beta score.
 */

import { checkReferenceStreams, countNgrams } from './ngrams.js';

export interface ChrfOptions {
  /** Character n-gram order (default 6). */
  charOrder?: number;
  /** Word n-gram order: 0 for chrF (default), 2 for chrF++. */
  wordOrder?: number;
  /** Recall weight (default 2). */
  beta?: number;
  /** Keep whitespace inside character n-grams (default false, as sacrebleu). */
  keepWhitespace?: boolean;
  lowercase?: boolean;
  /**
   * Average the per-order F scores over all orders (chrF++.py and NLTK's behaviour) instead of
   * averaging precision and recall over the orders the hypothesis and reference both fill.
   */
  epsSmoothing?: boolean;
}

export interface ChrfResult {
  score: number;
  /** sacrebleu's reproducibility signature. */
  signature: string;
}

// Python's string.punctuation, which chrF++ splits off the ends of words.
const PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');

/** Words with one leading or trailing punctuation mark split off, as sacrebleu's chrF++ does. */
function chrfWords(line: string): string[] {
  const words: string[] = [];
  for (const w of line.split(/\s+/u).filter((x) => x.length > 0)) {
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

function resolve(options: ChrfOptions): Resolved {
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
      throw new RangeError(`chrF: ${key} must be a non-negative integer, got ${r[key]}`);
  }
  if (r.charOrder + r.wordOrder === 0)
    throw new RangeError('chrF: charOrder and wordOrder are both 0');
  if (!(r.beta > 0)) throw new RangeError(`chrF: beta must be > 0, got ${r.beta}`);
  return r;
}

/** The n-gram counts of one line, character orders first, then word orders. */
function lineNgrams(line: string, o: Resolved): Map<string, number>[] {
  const text = o.lowercase ? line.toLowerCase() : line;
  const chars = Array.from(o.keepWhitespace ? text : text.replace(/\s+/gu, ''));
  const out: Map<string, number>[] = [];
  for (let n = 1; n <= o.charOrder; n++) out.push(countNgrams(chars, n, ''));
  const words = o.wordOrder > 0 ? chrfWords(text) : [];
  for (let n = 1; n <= o.wordOrder; n++) out.push(countNgrams(words, n, ' '));
  return out;
}

/** [hypothesis n-grams, reference n-grams, matches] per order, flattened. */
function matchStats(hyp: Map<string, number>[], ref: Map<string, number>[]): number[] {
  const stats: number[] = [];
  for (const [i, h] of hyp.entries()) {
    const r = ref[i]!;
    let nHyp = 0;
    let nRef = 0;
    let nMatch = 0;
    for (const c of h.values()) nHyp += c;
    for (const c of r.values()) nRef += c;
    for (const [g, c] of h) nMatch += Math.min(c, r.get(g) ?? 0);
    stats.push(nHyp, nRef, nMatch);
  }
  return stats;
}

function fScore(stats: readonly number[], o: Resolved): number {
  const orders = stats.length / 3;
  const b2 = o.beta * o.beta;
  const f = (p: number, r: number) => (p + r > 0 ? ((1 + b2) * p * r) / (b2 * p + r) : 0);
  let sumF = 0;
  let sumP = 0;
  let sumR = 0;
  let effective = 0;
  for (let i = 0; i < orders; i++) {
    const [nHyp, nRef, nMatch] = [stats[3 * i]!, stats[3 * i + 1]!, stats[3 * i + 2]!];
    if (nHyp === 0 || nRef === 0) continue;
    const p = nMatch / nHyp;
    const r = nMatch / nRef;
    sumF += f(p, r);
    sumP += p;
    sumR += r;
    effective++;
  }
  if (o.epsSmoothing) return (100 * sumF) / orders;
  return effective === 0 ? 0 : 100 * f(sumP / effective, sumR / effective);
}

/**
 * Corpus chrF. `references` follows sacrebleu's layout: refs[k][i] is the k-th reference of
 * sentence i; for each sentence the reference with the best sentence score counts.
 */
export function corpusChrf(
  hypotheses: readonly string[],
  references: readonly (readonly string[])[],
  options: ChrfOptions = {},
): ChrfResult {
  const o = resolve(options);
  checkReferenceStreams('corpusChrf', hypotheses, references);
  const totals = new Array<number>(3 * (o.charOrder + o.wordOrder)).fill(0);
  for (const [i, hyp] of hypotheses.entries()) {
    const h = lineNgrams(hyp, o);
    let best: number[] | undefined;
    let bestScore = -1;
    for (const stream of references) {
      const stats = matchStats(h, lineNgrams(stream[i]!, o));
      const score = fScore(stats, o);
      if (score > bestScore) [best, bestScore] = [stats, score];
    }
    for (const [j, v] of best!.entries()) totals[j]! += v;
  }
  const name = o.wordOrder > 0 ? `chrF${o.beta}++` : `chrF${o.beta}`;
  const signature = `${name}|nrefs:${references.length}|case:${o.lowercase ? 'lc' : 'mixed'}|eff:${o.epsSmoothing ? 'no' : 'yes'}|nc:${o.charOrder}|nw:${o.wordOrder}|space:${o.keepWhitespace ? 'yes' : 'no'}|version:tessera`;
  return { score: fScore(totals, o), signature };
}

/** chrF of a single sentence against one or more references. */
export function sentenceChrf(
  hypothesis: string,
  references: readonly string[],
  options: ChrfOptions = {},
): ChrfResult {
  return corpusChrf(
    [hypothesis],
    references.map((r) => [r]),
    options,
  );
}
