/**
 * ROUGE-N, ROUGE-L and ROUGE-Lsum as Google's `rouge-score` computes them (Lin, 2004): lowercase,
 * keep runs of [a-z0-9] as tokens, then n-gram overlap (ROUGE-N), the longest common subsequence
 * (ROUGE-L) or the summary-level union LCS over newline-separated sentences (ROUGE-Lsum).
 */

import { countNgrams } from './ngrams.js';
import { checkOptions } from './options.js';
import { porterStem } from './porter.js';

/** `rouge1` … `rouge9`, `rougeL` or `rougeLsum`. */
export type RougeType = `rouge${1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9}` | 'rougeL' | 'rougeLsum';

export interface RougeOptions {
  /** Porter-stem tokens longer than three letters, as rouge-score's `use_stemmer=True`. */
  useStemmer?: boolean;
}

const OPTION_KEYS = ['useStemmer'];

export interface RougeScore {
  precision: number;
  recall: number;
  fmeasure: number;
}

/** rouge-score's default tokenizer: lowercase, non-alphanumerics become spaces, optional stemming. */
export function rougeTokenize(text: string, options: RougeOptions = {}): string[] {
  checkOptions('rougeTokenize', options, OPTION_KEYS);
  const tokens = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .split(' ')
    .filter((t) => t.length > 0);
  return options.useStemmer ? tokens.map((t) => (t.length > 3 ? porterStem(t) : t)) : tokens;
}

function score(hits: number, predictionLength: number, referenceLength: number): RougeScore {
  const precision = predictionLength > 0 ? hits / predictionLength : 0;
  const recall = referenceLength > 0 ? hits / referenceLength : 0;
  const fmeasure = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, fmeasure };
}

function rougeN(
  prediction: readonly string[],
  reference: readonly string[],
  n: number,
): RougeScore {
  const p = countNgrams(prediction, n, ' ');
  const r = countNgrams(reference, n, ' ');
  let hits = 0;
  for (const [g, c] of p) hits += Math.min(c, r.get(g) ?? 0);
  return score(hits, Math.max(0, prediction.length - n + 1), Math.max(0, reference.length - n + 1));
}

/** Dynamic-programming table: table[i][j] is the LCS length of a[:i] and b[:j]. */
function lcsTable(a: readonly string[], b: readonly string[]): Uint32Array[] {
  const table = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      table[i]![j] =
        a[i - 1] === b[j - 1]
          ? table[i - 1]![j - 1]! + 1
          : Math.max(table[i - 1]![j]!, table[i]![j - 1]!);
    }
  }
  return table;
}

/** Indices into `reference` of one LCS with `candidate`; ties step back in the reference first. */
export function lcsIndices(reference: readonly string[], candidate: readonly string[]): number[] {
  const table = lcsTable(reference, candidate);
  const out: number[] = [];
  let i = reference.length;
  let j = candidate.length;
  while (i > 0 && j > 0) {
    if (reference[i - 1] === candidate[j - 1]) {
      out.push(i - 1);
      i--;
      j--;
    } else if (table[i]![j - 1]! > table[i - 1]![j]!) j--;
    else i--;
  }
  return out.reverse();
}

function rougeL(prediction: readonly string[], reference: readonly string[]): RougeScore {
  if (prediction.length === 0 || reference.length === 0) return score(0, 0, 0);
  const lcs = lcsTable(reference, prediction)[reference.length]![prediction.length]!;
  return score(lcs, prediction.length, reference.length);
}

/** Summary-level LCS: each reference sentence's union LCS against all prediction sentences, counts clipped. */
function rougeLsum(prediction: readonly string[][], reference: readonly string[][]): RougeScore {
  const m = reference.reduce((a, s) => a + s.length, 0);
  const n = prediction.reduce((a, s) => a + s.length, 0);
  if (m === 0 || n === 0) return score(0, 0, 0);
  const count = (sents: readonly string[][]) => {
    const c = new Map<string, number>();
    for (const s of sents) for (const t of s) c.set(t, (c.get(t) ?? 0) + 1);
    return c;
  };
  const left = { ref: count(reference), pred: count(prediction) };
  let hits = 0;
  for (const r of reference) {
    const union = new Set<number>();
    for (const p of prediction) for (const i of lcsIndices(r, p)) union.add(i);
    for (const i of [...union].sort((a, b) => a - b)) {
      const t = r[i]!;
      if ((left.ref.get(t) ?? 0) > 0 && (left.pred.get(t) ?? 0) > 0) {
        hits++;
        left.ref.set(t, left.ref.get(t)! - 1);
        left.pred.set(t, left.pred.get(t)! - 1);
      }
    }
  }
  return score(hits, n, m);
}

function parseType(type: string): number | 'L' | 'Lsum' {
  if (type === 'rougeL') return 'L';
  if (type === 'rougeLsum') return 'Lsum';
  const m = /^rouge([1-9])$/.exec(type);
  if (!m)
    throw new RangeError(
      `rouge: type must be rouge1..rouge9, rougeL or rougeLsum, got ${JSON.stringify(type)}`,
    );
  return Number(m[1]);
}

function scoreOne(
  type: string,
  prediction: string,
  reference: string,
  options: RougeOptions,
): RougeScore {
  const kind = parseType(type);
  if (kind === 'Lsum') {
    const sentences = (text: string) =>
      text.split('\n').map((line) => rougeTokenize(line, options));
    return rougeLsum(sentences(prediction), sentences(reference));
  }
  const p = rougeTokenize(prediction, options);
  const r = rougeTokenize(reference, options);
  return kind === 'L' ? rougeL(p, r) : rougeN(p, r, kind);
}

/**
 * ROUGE scores of one prediction. With several references each type takes the reference with
 * the best F-measure, as rouge-score's `score_multi` does. For ROUGE-Lsum put one sentence per line.
 */
export function rouge(
  prediction: string,
  references: string | readonly string[],
  types: readonly RougeType[] = ['rouge1', 'rouge2', 'rougeL', 'rougeLsum'],
  options: RougeOptions = {},
): Record<string, RougeScore> {
  checkOptions('rouge', options, OPTION_KEYS);
  const refs = typeof references === 'string' ? [references] : references;
  if (refs.length === 0) throw new RangeError('rouge: expected at least one reference');
  const out: Record<string, RougeScore> = {};
  for (const type of types) {
    let best = scoreOne(type, prediction, refs[0]!, options);
    for (const ref of refs.slice(1)) {
      const s = scoreOne(type, prediction, ref, options);
      if (s.fmeasure > best.fmeasure) best = s;
    }
    out[type] = best;
  }
  return out;
}

/** Mean precision, recall and F-measure per type over a corpus of prediction/reference pairs. */
export function corpusRouge(
  predictions: readonly string[],
  references: readonly (string | readonly string[])[],
  types: readonly RougeType[] = ['rouge1', 'rouge2', 'rougeL', 'rougeLsum'],
  options: RougeOptions = {},
): Record<string, RougeScore> {
  checkOptions('corpusRouge', options, OPTION_KEYS);
  if (predictions.length !== references.length) {
    throw new RangeError(
      `corpusRouge: ${predictions.length} predictions but ${references.length} references`,
    );
  }
  const sums: Record<string, RougeScore> = {};
  for (const t of types) sums[t] = { precision: 0, recall: 0, fmeasure: 0 };
  for (const [i, p] of predictions.entries()) {
    for (const [t, s] of Object.entries(rouge(p, references[i]!, types, options))) {
      sums[t]!.precision += s.precision;
      sums[t]!.recall += s.recall;
      sums[t]!.fmeasure += s.fmeasure;
    }
  }
  const n = Math.max(1, predictions.length);
  for (const s of Object.values(sums)) {
    s.precision /= n;
    s.recall /= n;
    s.fmeasure /= n;
  }
  return sums;
}
