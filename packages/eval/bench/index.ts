/**
 * Corpus BLEU and ROUGE-L on 10k sentence pairs from Tiny Shakespeare, against straightforward
 * implementations in the same run (n-grams counted by scanning arrays; the LCS table as nested
 * JS arrays), on short sentences and on 500 long paragraphs. Both must agree with the library. `npm run bench -w @tessera/eval`
 */
import { readFileSync } from 'node:fs';
import { corpusBleu, corpusRouge, rougeTokenize, tokenize13a } from '../src/index.js';

const PAIRS = 10_000;
const text = readFileSync(
  new URL('../../../apps/reference-llm/data/tinyshakespeare.txt', import.meta.url),
  'utf8',
);
const references = text
  .split('\n')
  .filter((l) => l.trim().split(' ').length >= 4)
  .slice(0, PAIRS);
// A deterministic "system output": drop every fifth word and swap the second and third.
const hypotheses = references.map((line) => {
  const w = line.split(' ').filter((_, i) => i % 5 !== 4);
  if (w.length > 2) [w[1], w[2]] = [w[2]!, w[1]!];
  return w.join(' ');
});

/** BLEU the textbook way: every n-gram is an array, counted by scanning the sentence. */
function naiveBleu(hyps: string[], refs: string[]): number {
  const count = (grams: string[][], g: string[]) =>
    grams.filter((x) => x.every((t, i) => t === g[i])).length;
  const grams = (toks: string[], n: number) =>
    toks.slice(0, Math.max(0, toks.length - n + 1)).map((_, i) => toks.slice(i, i + n));
  const correct = [0, 0, 0, 0];
  const total = [0, 0, 0, 0];
  let hypLen = 0;
  let refLen = 0;
  for (let s = 0; s < hyps.length; s++) {
    const h = tokenize13a(hyps[s]!).split(' ').filter(Boolean);
    const r = tokenize13a(refs[s]!).split(' ').filter(Boolean);
    hypLen += h.length;
    refLen += r.length;
    for (let n = 1; n <= 4; n++) {
      const hg = grams(h, n);
      const rg = grams(r, n);
      const seen: string[][] = [];
      for (const g of hg) {
        if (count(seen, g) > 0) continue;
        seen.push(g);
        correct[n - 1]! += Math.min(count(hg, g), count(rg, g));
      }
      total[n - 1]! += hg.length;
    }
  }
  let smooth = 1;
  const logP = total.map((t, i) => {
    if (correct[i]! > 0) return Math.log(correct[i]! / t);
    smooth *= 2;
    return Math.log(1 / (smooth * t));
  });
  const bp = hypLen < refLen ? Math.exp(1 - refLen / hypLen) : 1;
  return 100 * bp * Math.exp(logP.reduce((a, b) => a + b, 0) / 4);
}

/** ROUGE-L F-measure with the LCS table as nested arrays, averaged over pairs. */
function naiveRougeL(preds: string[], refs: string[]): number {
  let sum = 0;
  for (let s = 0; s < preds.length; s++) {
    const p = rougeTokenize(preds[s]!);
    const r = rougeTokenize(refs[s]!);
    if (p.length === 0 || r.length === 0) continue;
    const t: number[][] = r.map(() => p.map(() => 0));
    const at = (i: number, j: number) => (i < 0 || j < 0 ? 0 : t[i]![j]!);
    for (let i = 0; i < r.length; i++) {
      for (let j = 0; j < p.length; j++)
        t[i]![j] = r[i] === p[j] ? at(i - 1, j - 1) + 1 : Math.max(at(i - 1, j), at(i, j - 1));
    }
    const lcs = t[r.length - 1]![p.length - 1]!;
    const prec = lcs / p.length;
    const rec = lcs / r.length;
    sum += prec + rec > 0 ? (2 * prec * rec) / (prec + rec) : 0;
  }
  return sum / preds.length;
}

function best<T>(fn: () => T, reps = 5): { ms: number; value: T } {
  let ms = Number.POSITIVE_INFINITY;
  let value = fn();
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    value = fn();
    ms = Math.min(ms, performance.now() - t0);
  }
  return { ms, value };
}

/** Best of five runs of each implementation on one corpus; both must give the same score. */
function compare(label: string, hyps: string[], refs: string[]): void {
  const words = hyps.join(' ').split(' ').length / hyps.length;
  console.log(`\n${label}: ${hyps.length} pairs, mean ${words.toFixed(1)} words per hypothesis`);
  const rows: [string, { ms: number; value: number }, { ms: number; value: number }][] = [
    ['corpus BLEU', best(() => corpusBleu(hyps, [refs]).score), best(() => naiveBleu(hyps, refs))],
    [
      'ROUGE-L (mean F)',
      best(() => corpusRouge(hyps, refs, ['rougeL']).rougeL!.fmeasure),
      best(() => naiveRougeL(hyps, refs)),
    ],
  ];
  console.log('metric            score      tessera ms   naive ms   speed-up');
  for (const [name, ours, naive] of rows) {
    if (Math.abs(ours.value - naive.value) > 1e-9)
      throw new Error(`${name}: ${ours.value} differs from the naive ${naive.value}`);
    const cells = [
      ours.value.toFixed(4).padStart(8),
      ours.ms.toFixed(1).padStart(12),
      naive.ms.toFixed(1).padStart(10),
    ];
    console.log(
      `${name.padEnd(17)} ${cells.join(' ')} ${(naive.ms / ours.ms).toFixed(2).padStart(9)}×`,
    );
  }
}

// Shared by both implementations, so it bounds the speed-up on short sentences.
const tok = best(() => references.concat(hypotheses).map(tokenize13a).length);
console.log(`13a tokenisation of the ${2 * references.length} sentences: ${tok.ms.toFixed(1)} ms`);
compare('sentences', hypotheses, references);
// Long inputs: 20 consecutive lines per pair, where per-sentence costs grow with length.
const join = (xs: string[]) =>
  Array.from({ length: 500 }, (_, i) => xs.slice(20 * i, 20 * i + 20).join(' '));
compare('paragraphs', join(hypotheses), join(references));
