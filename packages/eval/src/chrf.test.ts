import { corpusChrf, sentenceChrf } from '@tessera/eval';
import { describe, expect, it } from 'vitest';

// Expected scores are the published values of sacrebleu's own chrF test-suite.
type Case = [string[], string[], number];

describe('chrF (sacrebleu)', () => {
  it('epsilon smoothing, beta 3: averages per-order F over all six orders', () => {
    const cases: Case[] = [
      [['abcdefg'], ['hijklmnop'], 0],
      [['a'], ['b'], 0],
      [[''], ['reference'], 0],
      [['aa'], ['ab'], 8.3333],
      [['a', 'b'], ['a', 'c'], 8.3333],
      [['a'], ['a'], 16.6667],
      [['a b c'], ['a b c'], 50],
      [['a b c'], ['abc'], 50],
      [
        [
          ' risk assessment must be made of those who are qualified and expertise in the sector - these are the scientists .',
        ],
        [
          'risk assessment has to be undertaken by those who are qualified and expert in that area - that is the scientists .',
        ],
        63.36173,
      ],
      [
        [' Die    Beziehung zwischen  Obama und Netanjahu ist nicht gerade  freundlich. '],
        ['Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich.'],
        64.1302698,
      ],
      [
        ['Niemand hat die Absicht, eine Mauer zu errichten'],
        ['Niemand hat die Absicht, eine Mauer zu errichten'],
        100,
      ],
    ];
    for (const [hyp, ref, expected] of cases) {
      expect(
        Math.abs(corpusChrf(hyp, [ref], { beta: 3, epsSmoothing: true }).score - expected),
      ).toBeLessThan(1e-4);
    }
  });

  it('default effective order, beta 3: averages precision and recall over filled orders', () => {
    const cases: Case[] = [
      [['a'], ['a'], 100],
      [[''], ['reference'], 0],
      [['a b c'], ['a b c'], 100],
      [['a b c'], ['abc'], 100],
      [['a', 'b'], ['a', 'c'], 50],
      [['aa'], ['ab'], 25],
    ];
    for (const [hyp, ref, expected] of cases)
      expect(corpusChrf(hyp, [ref], { beta: 3 }).score).toBeCloseTo(expected, 4);
  });

  it('keeps whitespace inside character n-grams when asked', () => {
    const cases: Case[] = [
      [
        ['Die Beziehung zwischen Obama und Netanjahu ist nicht gerade freundlich.'],
        ['Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich.'],
        67.3481606,
      ],
      [
        [
          'risk assessment must be made of those who are qualified and expertise in the sector - these are the scientists .',
        ],
        [
          'risk assessment has to be undertaken by those who are qualified and expert in that area - that is the scientists .',
        ],
        65.2414427,
      ],
    ];
    for (const [hyp, ref, expected] of cases) {
      expect(
        Math.abs(corpusChrf(hyp, [ref], { beta: 3, keepWhitespace: true }).score - expected),
      ).toBeLessThan(1e-4);
    }
  });

  it('sentence chrF2 with epsilon smoothing on Czech sentences', () => {
    const cases: [string, string, number][] = [
      [
        'Co nás nejvíc trápí, protože lékaři si vybírají, kdo bude žít a kdo zemře.',
        'Nejvíce smutní jsme z toho, že musíme rozhodovat o tom, kdo bude žít a kdo zemře.',
        39.14078509,
      ],
      [
        'Nebo prostě nemají vybavení, které by jim pomohlo, uvedli lékaři.',
        'A někdy nemáme ani potřebný materiál, abychom jim pomohli, popsali lékaři.',
        31.22557079,
      ],
      [
        'Lapali po dechu, jejich životy skončily dřív, než skutečně začaly.',
        'Lapali po dechu a pak jejich život skončil - dřív, než skutečně mohl začít, připomněli.',
        57.15704367,
      ],
    ];
    for (const [hyp, ref, expected] of cases) {
      expect(
        Math.abs(sentenceChrf(hyp, [ref], { epsSmoothing: true }).score - expected),
      ).toBeLessThan(1e-4);
    }
  });

  // Words: [the, cat, .] vs [the, cat, !] — unigrams 2/3, bigrams 1/2; mean P = mean R = 7/12.
  it('chrF++ word n-grams split punctuation off the ends of words', () => {
    const r = sentenceChrf('the cat.', ['the cat!'], { charOrder: 0, wordOrder: 2 });
    expect(r.score).toBeCloseTo((100 * 7) / 12, 9);
    expect(r.signature).toBe(
      'chrF2++|nrefs:1|case:mixed|eff:yes|nc:0|nw:2|space:no|version:tessera',
    );
  });

  it('picks the best reference per sentence, and rejects bad options', () => {
    expect(sentenceChrf('the cat', ['a dog', 'the cat']).score).toBeCloseTo(100, 9);
    expect(() => corpusChrf(['a'], [['a']], { beta: 0 })).toThrow(/beta must be > 0, got 0/);
    expect(() => corpusChrf(['a'], [['a']], { charOrder: 1.5 })).toThrow(
      /charOrder must be a non-negative integer, got 1.5/,
    );
    expect(() => corpusChrf(['a', 'b'], [['a']])).toThrow(
      /reference stream 0 has 1 sentences for 2 hypotheses/,
    );
  });
});
