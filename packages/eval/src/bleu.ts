/**
 * BLEU as sacrebleu computes it (Post, 2018): tokenise (13a by default), count clipped n-gram
 * matches over the corpus (orders 1–4), smooth, multiply by the brevity penalty against the
 * closest reference length.
 */

import { checkReferenceStreams } from './ngrams.js';

export type BleuTokenizer = '13a' | 'none' | 'char' | 'intl';
export type BleuSmoothing = 'exp' | 'floor' | 'add-k' | 'none';

export interface BleuOptions {
  tokenize?: BleuTokenizer;
  smoothMethod?: BleuSmoothing;
  /** floor: the value for zero precisions (default 0.1); add-k: k (default 1). */
  smoothValue?: number;
  lowercase?: boolean;
  /** Average only over orders that have n-grams (sacrebleu's sentence default), so short sentences score. */
  effectiveOrder?: boolean;
}

export interface BleuResult {
  score: number;
  /** Percent precisions of orders 1..4. */
  precisions: number[];
  bp: number;
  ratio: number;
  hypLen: number;
  refLen: number;
  /** sacrebleu's reproducibility signature. */
  signature: string;
}

/** mteval-v13a tokenisation (sacrebleu's default). */
export function tokenize13a(line: string): string {
  let s = line.replaceAll('<skipped>', '').replaceAll('-\n', '').replaceAll('\n', ' ');
  if (s.includes('&'))
    s = s
      .replaceAll('&quot;', '"')
      .replaceAll('&amp;', '&')
      .replaceAll('&lt;', '<')
      .replaceAll('&gt;', '>');
  s = ` ${s} `;
  s = s.replace(/([{-~[-` -&(-+:-@/])/g, ' $1 ');
  s = s.replace(/([^0-9])([.,])/g, '$1 $2 ');
  s = s.replace(/([.,])([^0-9])/g, ' $1 $2');
  s = s.replace(/([0-9])(-)/g, '$1 $2 ');
  return s.split(/\s+/).filter(Boolean).join(' ');
}

/** International tokenisation: punctuation and symbols split by Unicode class (sacrebleu `intl`). */
export function tokenizeIntl(line: string): string {
  let s = line.replace(/(\P{N})(\p{P})/gu, '$1 $2 ');
  s = s.replace(/(\p{P})(\P{N})/gu, ' $1 $2');
  s = s.replace(/(\p{S})/gu, ' $1 ');
  return s.split(/\s+/).filter(Boolean).join(' ');
}

function tokenizeWith(kind: BleuTokenizer, s: string): string[] {
  switch (kind) {
    case '13a':
      return tokenize13a(s).split(' ').filter(Boolean);
    case 'intl':
      return tokenizeIntl(s).split(' ').filter(Boolean);
    case 'char':
      return [...s.replace(/\s+/g, '')];
    case 'none':
      return s.split(' ').filter(Boolean);
    default:
      throw new TypeError(
        `bleu: tokenize must be 13a, intl, char or none, got ${JSON.stringify(kind)}`,
      );
  }
}

/** Counts of every n-gram of orders 1..4, one map per order, keys built in one pass per start. */
function ngramCounts(tokens: readonly string[]): Map<string, number>[] {
  const counts = [
    new Map<string, number>(),
    new Map<string, number>(),
    new Map<string, number>(),
    new Map<string, number>(),
  ];
  for (let i = 0; i < tokens.length; i++) {
    let key = tokens[i]!;
    for (let n = 0; n < 4 && i + n < tokens.length; n++) {
      if (n > 0) key += `\u0001${tokens[i + n]}`;
      counts[n]!.set(key, (counts[n]!.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

/**
 * Corpus BLEU. `references` is a list of reference streams, each as long as `hypotheses`
 * (sacrebleu's layout: refs[k][i] is the k-th reference of sentence i).
 */
export function corpusBleu(
  hypotheses: readonly string[],
  references: readonly (readonly string[])[],
  options: BleuOptions = {},
): BleuResult {
  checkReferenceStreams('corpusBleu', hypotheses, references);
  const tok = options.tokenize ?? '13a';
  const smooth = options.smoothMethod ?? 'exp';
  const prep = (s: string) => tokenizeWith(tok, options.lowercase ? s.toLowerCase() : s);
  const correct = [0, 0, 0, 0];
  const total = [0, 0, 0, 0];
  let hypLen = 0;
  let refLen = 0;
  for (const [i, hyp] of hypotheses.entries()) {
    const h = prep(hyp);
    const refs = references.map((stream) => prep(stream[i]!));
    hypLen += h.length;
    // Closest reference length; ties go to the shorter one.
    let closest = refs[0]!.length;
    for (const r of refs) {
      const d = Math.abs(r.length - h.length);
      const best = Math.abs(closest - h.length);
      if (d < best || (d === best && r.length < closest)) closest = r.length;
    }
    refLen += closest;
    const hypCounts = ngramCounts(h);
    const refCounts = refs.map(ngramCounts);
    for (let n = 0; n < 4; n++) {
      for (const [g, c] of hypCounts[n]!) {
        let maxRef = 0;
        for (const rc of refCounts) maxRef = Math.max(maxRef, rc[n]!.get(g) ?? 0);
        correct[n]! += Math.min(c, maxRef);
      }
      total[n]! += Math.max(0, h.length - n);
    }
  }
  const precisions = [0, 0, 0, 0];
  let smoothExp = 1;
  // As sacrebleu: no matching unigram at all scores 0 whatever the smoothing.
  const anyMatch = correct.some((c) => c > 0);
  for (let n = 0; n < 4 && anyMatch; n++) {
    if (smooth === 'add-k' && n > 0) {
      const k = options.smoothValue ?? 1;
      precisions[n] = (100 * (correct[n]! + k)) / (total[n]! + k);
    } else if (total[n] === 0) {
      precisions[n] = 0;
    } else if (correct[n] === 0) {
      if (smooth === 'exp') {
        smoothExp *= 2;
        precisions[n] = 100 / (smoothExp * total[n]!);
      } else if (smooth === 'floor')
        precisions[n] = (100 * (options.smoothValue ?? 0.1)) / total[n]!;
      else precisions[n] = 0;
    } else precisions[n] = (100 * correct[n]!) / total[n]!;
  }
  const bp = hypLen === 0 ? 0 : hypLen < refLen ? Math.exp(1 - refLen / hypLen) : 1;
  const orders = options.effectiveOrder ? Math.max(1, total.filter((t) => t > 0).length) : 4;
  const used = precisions.slice(0, orders);
  const score = used.some((p) => p === 0)
    ? 0
    : bp * Math.exp(used.reduce((a, p) => a + Math.log(p), 0) / orders);
  const smoothSig =
    smooth === 'floor' || smooth === 'add-k'
      ? `${smooth}[${(options.smoothValue ?? (smooth === 'floor' ? 0.1 : 1)).toFixed(2)}]`
      : smooth;
  const signature = `nrefs:${references.length}|case:${options.lowercase ? 'lc' : 'mixed'}|eff:${options.effectiveOrder ? 'yes' : 'no'}|tok:${tok}|smooth:${smoothSig}|version:tessera`;
  return {
    score,
    precisions,
    bp,
    ratio: refLen === 0 ? 0 : hypLen / refLen,
    hypLen,
    refLen,
    signature,
  };
}

/** Sentence BLEU: corpus BLEU of a single sentence, with effective order on by default as in sacrebleu. */
export function sentenceBleu(
  hypothesis: string,
  references: readonly string[],
  options: BleuOptions = {},
): BleuResult {
  return corpusBleu(
    [hypothesis],
    references.map((r) => [r]),
    { effectiveOrder: true, ...options },
  );
}
