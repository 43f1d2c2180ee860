import { readFileSync } from 'node:fs';
import { type BleuOptions, corpusBleu, sentenceBleu } from '@tessera/eval';
import { describe, expect, it } from 'vitest';

// fixtures/sacrebleu.json, made by fixtures/make-sacrebleu-fixture.py with sacreBLEU 2.6.0 itself:
// every tokenizer with each whitespace and format character in each position, and seeded random
// corpora of short sentences (orders with no n-grams, add-k with effective order, several
// references, empty lines) under every smoothing; scores and corpus-summed statistics.
interface Case {
  hypotheses: string[];
  references: string[][];
  options: BleuOptions;
  sentence: boolean;
  score: number;
  precisions: number[];
  bp: number;
  hypLen: number;
  refLen: number;
  counts: number[];
  totals: number[];
}
const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/sacrebleu.json', import.meta.url), 'utf8'),
) as { sacrebleu: string; bleu: Case[] };

const run = (c: Case) =>
  c.sentence
    ? sentenceBleu(
        c.hypotheses[0]!,
        c.references.map((stream) => stream[0]!),
        c.options,
      )
    : corpusBleu(c.hypotheses, c.references, c.options);

// The example of sacreBLEU's README: BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18).
const sys = ['The dog bit the man.', "It wasn't surprising.", 'The man had just bitten him.'];
const refs = [
  ['The dog bit the man.', 'It was not unexpected.', 'The man bit him first.'],
  ['The dog had bit the man.', 'No one was surprised.', 'The man had bitten the dog.'],
];

describe(`BLEU (sacreBLEU ${fixture.sacrebleu})`, () => {
  // Statistics and precisions are exact. The brevity penalty and the score go through exp and
  // log, whose last bit differs between V8 and the C library Python used (sacreBLEU's own scores
  // differ in the same way across platforms), so those agree to a few units in the last place.
  it('gives the same statistics and precisions, and the same score to 1e-14, on every fixture case', () => {
    expect(fixture.bleu.length).toBeGreaterThan(1000);
    const relative = (a: number, b: number) => (a === b ? 0 : Math.abs(a - b) / Math.abs(b));
    for (const c of fixture.bleu) {
      const r = run(c);
      const label = JSON.stringify([c.hypotheses, c.references, c.options]);
      expect([label, r.counts, r.totals, r.hypLen, r.refLen, r.precisions]).toEqual([
        label,
        c.counts,
        c.totals,
        c.hypLen,
        c.refLen,
        c.precisions,
      ]);
      expect([label, relative(r.bp, c.bp) < 1e-14, relative(r.score, c.score) < 1e-14]).toEqual([
        label,
        true,
        true,
      ]);
    }
  });

  // Issue 13.4: a tab and a double space separate words as in Python's str.split(). sacreBLEU
  // 2.6.0's score is 100.00000000000004 (exp of the mean log of four 100% precisions).
  it('splits tokenize: none at any run of Python whitespace (100, not 78.78)', () => {
    const r = corpusBleu(['a\tb c d e f', 'g  h i j k l'], [['a b c d e f', 'g h i j k l']], {
      tokenize: 'none',
    });
    expect(r.score).toBe(fixture.bleu[0]!.score);
    expect(r.score).toBe(100.00000000000004);
  });

  it("reproduces sacreBLEU's README example", () => {
    const r = corpusBleu(sys, refs);
    expect(r.score).toBe(fixture.bleu[1]!.score);
    expect(r.precisions.map((p) => Number(p.toFixed(1)))).toEqual([82.4, 50.0, 45.5, 37.5]);
    expect(r.bp).toBeCloseTo(0.943, 3);
    expect([r.hypLen, r.refLen]).toEqual([17, 18]);
    expect(r.signature).toBe('nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:tessera');
  });

  // Hypothesis 'the cat sat by a mat' vs 'the cat sat on the mat': matches 4/6, 2/5, 1/4, 0/3, BP = 1.
  it('smoothing: exp, floor and none on a hypothesis with no 4-gram match', () => {
    const hyp = 'the cat sat by a mat';
    const ref = ['the cat sat on the mat'];
    const geo = (p4: number) =>
      100 * Math.exp((Math.log(4 / 6) + Math.log(2 / 5) + Math.log(1 / 4) + Math.log(p4)) / 4);
    const exp = sentenceBleu(hyp, ref);
    expect(exp.precisions[3]).toBeCloseTo(100 / (2 * 3), 9);
    expect(exp.score).toBeCloseTo(geo(1 / 6), 9);
    expect(sentenceBleu(hyp, ref, { smoothMethod: 'floor' }).score).toBeCloseTo(geo(0.1 / 3), 9);
    // add-k adds 1 to the counts of orders 2-4: 4/6, 3/6, 2/5, 1/4.
    const addK =
      100 * Math.exp((Math.log(4 / 6) + Math.log(3 / 6) + Math.log(2 / 5) + Math.log(1 / 4)) / 4);
    expect(sentenceBleu(hyp, ref, { smoothMethod: 'add-k' }).score).toBeCloseTo(addK, 9);
    expect(sentenceBleu(hyp, ref, { smoothMethod: 'none' }).score).toBe(0);
  });

  // Three tokens have no 4-grams: effective order averages orders 1-3 (all 100%), BP = e^(1 - 6/3).
  // With add-k, order 4 has 0 + 1 matches of 0 + 1 n-grams, so it counts (at 100%).
  it('sentence BLEU uses effective order so short hypotheses still score', () => {
    const r = sentenceBleu('the cat sat', ['the cat sat on the mat']);
    expect(r.score).toBeCloseTo(100 * Math.exp(1 - 6 / 3), 9);
    expect(r.signature).toContain('eff:yes');
    expect(corpusBleu(['the cat sat'], [['the cat sat on the mat']]).score).toBe(0);
    const addK = sentenceBleu('the cat sat', ['the cat sat on the mat'], { smoothMethod: 'add-k' });
    expect(addK.precisions).toEqual([100, 100, 100, 100]);
    expect(addK.signature).toContain('smooth:add-k[1.00]');
  });

  it('an empty hypothesis scores 0, a perfect one 100; an empty reference scores 0', () => {
    expect(corpusBleu([''], [['a b c d e']]).score).toBe(0);
    expect(corpusBleu(['a b c d e f'], [['a b c d e f']]).score).toBeCloseTo(100, 9);
    expect(sentenceBleu('a b c d', ['']).score).toBe(0);
  });

  it('very long identical inputs score 100', () => {
    const words = Array.from({ length: 5000 }, (_, i) => `w${i % 997}`).join(' ');
    expect(corpusBleu([words], [[words]]).score).toBeCloseTo(100, 9);
  });

  it('rejects mismatched streams, unknown options, tokenizers and smoothing methods', () => {
    expect(() => corpusBleu(['a', 'b'], [['a']])).toThrow(
      /reference stream 0 has 1 sentences for 2 hypotheses/,
    );
    expect(() => corpusBleu(['a'], [['a']], { smoothMetod: 'exp' } as BleuOptions)).toThrow(
      'corpusBleu: unknown option "smoothMetod" (known options: tokenize, smoothMethod, smoothValue, lowercase, effectiveOrder)',
    );
    expect(() => sentenceBleu('a', ['a'], { effective: true } as BleuOptions)).toThrow(
      /^sentenceBleu: unknown option "effective"/,
    );
    expect(() => corpusBleu(['a'], [['a']], { smoothMethod: 'add-one' as 'add-k' })).toThrow(
      /smoothMethod must be exp, floor, add-k or none, got "add-one"/,
    );
    expect(() => corpusBleu(['a'], [['a']], { tokenize: 'spm' as '13a' })).toThrow(
      /tokenize must be 13a, intl, zh, char or none, got "spm"/,
    );
  });
});
