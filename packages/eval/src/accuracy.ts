/** Exact match, token F1 (SQuAD), accuracy, pass@k and bootstrap confidence intervals. */

import { checkOptions } from './options.js';
import { pythonSplit } from './python-str.js';
import { seededUniform } from './random.js';

const PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;

/** The articles as whole words, with Python's Unicode word boundary (`\w` = letters, numbers, `_`). */
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;

/**
 * SQuAD's answer normalisation, as its official evaluation script does it: lowercase, drop ASCII
 * punctuation, drop the articles a/an/the (word boundaries as Python's `re` sees them, so `éthe`
 * keeps its `the`), then split on Python's whitespace (`str.split()`: U+0085 and U+001C–U+001F
 * split, U+200B and U+FEFF do not) and join with single spaces.
 */
export function normalizeAnswer(s: string): string {
  return pythonSplit(s.toLowerCase().replace(PUNCTUATION, '').replace(ARTICLES, ' ')).join(' ');
}

function best(
  prediction: string,
  references: string | readonly string[],
  score: (p: string, r: string) => number,
): number {
  const refs = typeof references === 'string' ? [references] : references;
  if (refs.length === 0) throw new RangeError('expected at least one reference answer');
  return Math.max(...refs.map((r) => score(prediction, r)));
}

/** 1 when the normalised prediction equals a normalised reference (the best of several). */
export function exactMatch(prediction: string, references: string | readonly string[]): number {
  return best(prediction, references, (p, r) => +(normalizeAnswer(p) === normalizeAnswer(r)));
}

/** SQuAD token F1 between normalised answers (the best over several references). */
export function tokenF1(prediction: string, references: string | readonly string[]): number {
  return best(prediction, references, (p, r) => {
    const pt = normalizeAnswer(p).split(' ').filter(Boolean);
    const rt = normalizeAnswer(r).split(' ').filter(Boolean);
    if (pt.length === 0 || rt.length === 0) return +(pt.length === rt.length);
    const counts = new Map<string, number>();
    for (const t of rt) counts.set(t, (counts.get(t) ?? 0) + 1);
    let common = 0;
    for (const t of pt) {
      const c = counts.get(t) ?? 0;
      if (c > 0) {
        common++;
        counts.set(t, c - 1);
      }
    }
    if (common === 0) return 0;
    const precision = common / pt.length;
    const recall = common / rt.length;
    return (2 * precision * recall) / (precision + recall);
  });
}

/** Fraction of predictions equal to their labels. */
export function accuracy<T>(predictions: readonly T[], labels: readonly T[]): number {
  if (predictions.length !== labels.length)
    throw new RangeError(`accuracy: ${predictions.length} predictions for ${labels.length} labels`);
  if (predictions.length === 0) throw new RangeError('accuracy: no predictions');
  return predictions.reduce((n, p, i) => n + +(p === labels[i]), 0) / predictions.length;
}

/**
 * pass@k from n samples of which c passed: the unbiased estimator 1 − C(n−c, k)/C(n, k) of the
 * Codex paper (Chen et al., 2021), in its numerically stable product form.
 */
export function passAtK(n: number, c: number, k: number): number {
  for (const [name, v] of [
    ['n', n],
    ['c', c],
    ['k', k],
  ] as const) {
    if (!Number.isInteger(v) || v < 0)
      throw new RangeError(`passAtK: ${name} must be a non-negative integer, got ${v}`);
  }
  if (k < 1) throw new RangeError(`passAtK: k must be >= 1, got ${k}`);
  if (k > n) throw new RangeError(`passAtK: k (${k}) cannot exceed the number of samples n (${n})`);
  if (c > n) throw new RangeError(`passAtK: c (${c}) cannot exceed n (${n})`);
  if (n - c < k) return 1;
  let fail = 1;
  for (let i = n - c + 1; i <= n; i++) fail *= 1 - k / i;
  return 1 - fail;
}

/**
 * Percentile bootstrap confidence interval of any corpus metric: resample the items with
 * replacement `samples` times, recompute the metric on each resample.
 */
export function bootstrapCI<T>(
  items: readonly T[],
  metric: (sample: readonly T[]) => number,
  options: { samples?: number; confidence?: number; seed?: number } = {},
): { value: number; low: number; high: number } {
  checkOptions('bootstrapCI', options, ['samples', 'confidence', 'seed']);
  if (items.length === 0) throw new RangeError('bootstrapCI: no items');
  const samples = options.samples ?? 1000;
  const confidence = options.confidence ?? 0.95;
  if (!(confidence > 0 && confidence < 1))
    throw new RangeError(`bootstrapCI: confidence must be in (0, 1), got ${confidence}`);
  const next = seededUniform(options.seed ?? 0);
  const scores: number[] = [];
  for (let s = 0; s < samples; s++) {
    const resample = Array.from(
      { length: items.length },
      () => items[Math.floor(next() * items.length)]!,
    );
    scores.push(metric(resample));
  }
  scores.sort((a, b) => a - b);
  const tail = (1 - confidence) / 2;
  const at = (q: number) =>
    scores[Math.min(scores.length - 1, Math.max(0, Math.floor(q * scores.length)))]!;
  return { value: metric(items), low: at(tail), high: at(1 - tail) };
}
