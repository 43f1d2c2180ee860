import { corpusBleu, sentenceBleu, tokenize13a } from '@tessera/eval';
import { describe, expect, it } from 'vitest';

// The example of sacrebleu's README: BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18).
const sys = ['The dog bit the man.', "It wasn't surprising.", 'The man had just bitten him.'];
const refs = [
  ['The dog bit the man.', 'It was not unexpected.', 'The man bit him first.'],
  ['The dog had bit the man.', 'No one was surprised.', 'The man had bitten the dog.'],
];

describe('BLEU (sacrebleu)', () => {
  it("reproduces sacrebleu's README example", () => {
    const r = corpusBleu(sys, refs);
    expect(r.score).toBeCloseTo(48.530827009929865, 9);
    expect(r.precisions.map((p) => Number(p.toFixed(1)))).toEqual([82.4, 50.0, 45.5, 37.5]);
    expect(r.bp).toBeCloseTo(0.943, 3);
    expect([r.hypLen, r.refLen]).toEqual([17, 18]);
    expect(r.signature).toBe('nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:tessera');
  });

  // 13a's punctuation class skips the apostrophe (0x27), so contractions stay whole.
  it('13a tokenisation splits punctuation but keeps numbers with separators', () => {
    expect(tokenize13a("It wasn't 3.5-4, (ok)!")).toBe("It wasn't 3.5 - 4 , ( ok ) !");
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
  it('sentence BLEU uses effective order so short hypotheses still score', () => {
    const r = sentenceBleu('the cat sat', ['the cat sat on the mat']);
    expect(r.score).toBeCloseTo(100 * Math.exp(1 - 6 / 3), 9);
    expect(r.signature).toContain('eff:yes');
    expect(corpusBleu(['the cat sat'], [['the cat sat on the mat']]).score).toBe(0);
  });

  it('an empty hypothesis scores 0, a perfect one 100; mismatched streams are an error', () => {
    expect(corpusBleu([''], [['a b c d e']]).score).toBe(0);
    expect(corpusBleu(['a b c d e f'], [['a b c d e f']]).score).toBeCloseTo(100, 9);
    expect(() => corpusBleu(['a', 'b'], [['a']])).toThrow(
      /reference stream 0 has 1 sentences for 2 hypotheses/,
    );
  });
});
